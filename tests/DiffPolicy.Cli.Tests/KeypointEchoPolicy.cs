using DiffPolicy.Control;
using DiffPolicy.Protocol;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// A fast, deterministic PushT-shaped policy: every action targets the newest agent position shifted by
/// (4·(i + 1), 0), after an optional delay that stands for a slow network.
/// </summary>
internal sealed class KeypointEchoPolicy(TimeSpan delay = default) : IChunkPolicy
{
    public PolicyMetadata Metadata { get; } = new([new ObsKey("keypoint", [18])], NObsSteps: 2, Horizon: 16, NActionSteps: 8, ActionDim: 2, ControlHz: 10);

    public InferenceResult Infer(ObservationWindow window, CancellationToken cancellationToken)
    {
        if (delay > TimeSpan.Zero) Task.Delay(delay, cancellationToken).Wait(cancellationToken);
        var newest = window.At("keypoint", window.Steps - 1);
        var actions = new float[Metadata.PredictedSteps * 2];
        for (var i = 0; i < Metadata.PredictedSteps; i++)
        {
            actions[2 * i] = newest[16] + 4 * (i + 1);
            actions[2 * i + 1] = newest[17];
        }
        return new InferenceResult(actions, Iterations: 1, Evaluations: 1);
    }

    public void Reset(string robot)
    {
    }
}
