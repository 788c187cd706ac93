using System.Diagnostics;
using DiffPolicy.Protocol;
using NetMQ;

namespace DiffPolicy.Control;

/// <summary>The one thread that calls the policy. Results go back to the socket thread through <paramref name="replies"/>.</summary>
internal sealed class InferenceWorker(IChunkPolicy policy, InferenceQueue queue, NetMQQueue<InferenceReply> replies)
{
    readonly PolicyMetadata metadata = policy.Metadata;
    Thread? thread;

    public void Start()
    {
        thread = new Thread(Loop) { IsBackground = true, Name = "policy-inference" };
        thread.Start();
    }

    /// <summary>Closes the queue, which cancels the running inference, and waits for the thread.</summary>
    public void Stop()
    {
        queue.Close();
        thread?.Join();
    }

    void Loop()
    {
        while (queue.Take() is { } work)
        {
            try
            {
                if (work.Reset)
                {
                    policy.Reset(work.Session.Name);
                }
                if (work.Request is { } request)
                {
                    replies.Enqueue(Infer(request, work.Cancellation.Token));
                }
            }
            catch (OperationCanceledException) when (work.Cancellation.IsCancellationRequested)
            {
                // The robot reset, changed episode or left, or the server is stopping: nobody wants this chunk.
            }
            catch (Exception ex)
            {
                // A failing policy must not take the server down: the robot gets policy_failed and the session stays.
                var seq = work.Request?.Observation.Seq;
                var error = new ProtocolError(ErrorCodes.PolicyFailed, $"{ex.GetType().Name}: {ex.Message}", seq);
                replies.Enqueue(new InferenceReply(work.Session, work.Request?.Epoch ?? work.Session.Epoch, MessageCodec.Encode(error), IsChunk: false));
            }
            finally
            {
                queue.Done(work);
            }
        }
    }

    InferenceReply Infer(InferenceRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var result = policy.Infer(request.Window, cancellationToken);
        var inferMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var expected = metadata.PredictedSteps * metadata.ActionDim;
        if (result.Actions.Length != expected)
        {
            throw new InvalidOperationException($"the policy returned {result.Actions.Length} values, not (horizon − n_obs_steps + 1) × action_dim = {expected}");
        }
        if (!Array.TrueForAll(result.Actions, float.IsFinite))
        {
            throw new InvalidOperationException("the policy returned non-finite actions");
        }
        var obs = request.Observation;
        var timing = new ServerTiming(
            Stopwatch.GetElapsedTime(request.ArrivedAt, started).TotalMilliseconds, inferMs, result.Iterations, result.Evaluations);
        var chunk = new ActionChunk(
            obs.Seq, obs.Time, obs.Episode, obs.Step, metadata.Dt, metadata.PredictedSteps, metadata.ActionDim, result.Actions, timing);
        return new InferenceReply(request.Session, request.Epoch, MessageCodec.Encode(chunk), IsChunk: true);
    }
}
