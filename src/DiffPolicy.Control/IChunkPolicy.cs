using DiffPolicy.Protocol;

namespace DiffPolicy.Control;

/// <summary>
/// A policy that maps a window of observations to a chunk of actions. The server calls every member except
/// <see cref="Metadata"/> on one dedicated thread, so an implementation may keep thread-affine state (TorchSharp).
/// </summary>
public interface IChunkPolicy
{
    /// <summary>Read once when the server is built and sent to every robot in <c>welcome</c>.</summary>
    PolicyMetadata Metadata { get; }

    /// <summary>
    /// The <see cref="PolicyMetadata.PredictedSteps"/> actions for steps <see cref="ObservationWindow.Step"/>,
    /// <see cref="ObservationWindow.Step"/> + 1, …: in DiffusionPolicy's terms <c>prediction[n_obs_steps − 1 :]</c>,
    /// whose first n_action_steps are executed.
    /// </summary>
    InferenceResult Infer(ObservationWindow window, CancellationToken cancellationToken);

    /// <summary>
    /// Forget any per-robot state (warm starts, caches). Called, before anything else of that robot runs, when a robot
    /// that has had an inference starts a new episode, resets, leaves, times out or reconnects.
    /// </summary>
    void Reset(string robot);

    /// <summary>
    /// Infers for the jobs <paramref name="feed"/> hands in until it has none and none is running. A policy that can
    /// run several windows together (the diffusion policy: one ParaDiGMS run) takes new jobs between its steps; this
    /// default runs them one at a time through <see cref="Infer"/>.
    /// </summary>
    /// <param name="stop">Cancelled when the server stops: return (or throw <see cref="OperationCanceledException"/>) soon.</param>
    void Serve(IInferenceFeed feed, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(feed);
        while (feed.Take(0, 1) is { Count: > 0 } jobs)
        {
            foreach (var job in jobs)
            {
                stop.ThrowIfCancellationRequested();
                try
                {
                    feed.Finished(job, job.Cancellation.IsCancellationRequested ? null : Infer(job.Window, job.Cancellation), null);
                }
                catch (OperationCanceledException) when (job.Cancellation.IsCancellationRequested)
                {
                    feed.Finished(job, null, null);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    feed.Finished(job, null, ex);
                }
            }
        }
    }
}

/// <summary>
/// Where <see cref="IChunkPolicy.Serve"/> gets its jobs (earliest deadline first) and delivers results. Used on the
/// policy's thread only.
/// </summary>
public interface IInferenceFeed
{
    /// <summary>Jobs to start now, at most <paramref name="max"/> (may be none); <paramref name="running"/> are running.</summary>
    IReadOnlyList<InferenceJob> Take(int running, int max = int.MaxValue);

    /// <summary>
    /// A job ended: with a <paramref name="result"/>, with an <paramref name="error"/>, or with neither when it was
    /// cancelled (its robot reset or left; nobody wants the chunk).
    /// </summary>
    void Finished(InferenceJob job, InferenceResult? result, Exception? error);
}

/// <summary>One window to infer.</summary>
public sealed class InferenceJob
{
    internal InferenceJob(ObservationWindow window, long? deadline, CancellationToken cancellation)
    {
        Window = window;
        Deadline = deadline;
        Cancellation = cancellation;
    }

    public ObservationWindow Window { get; }

    /// <summary>
    /// <see cref="System.Diagnostics.Stopwatch"/> timestamp by which the robot wants its best answer, converged or not
    /// (it sent <c>deadline_ms</c>); null: answer when done.
    /// </summary>
    public long? Deadline { get; }

    /// <summary>Cancelled when the robot resets, starts a new episode or leaves, or the server stops.</summary>
    public CancellationToken Cancellation { get; }
}
