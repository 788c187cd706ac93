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
    ActionChunkResult Infer(ObservationWindow window, CancellationToken cancellationToken);

    /// <summary>
    /// Forget any per-robot state (warm starts, caches). Called, before anything else of that robot runs, when a robot
    /// that has had an inference starts a new episode, resets, leaves, times out or reconnects.
    /// </summary>
    void Reset(string robot);
}
