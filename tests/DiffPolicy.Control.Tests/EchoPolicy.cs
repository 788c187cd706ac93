using System.Collections.Concurrent;
using DiffPolicy.Protocol;

namespace DiffPolicy.Control.Tests;

/// <summary>
/// A deterministic policy for protocol tests: action i = the newest agent position + (0.01·i, 0), so a test can tell
/// which observation went in. It records every window, reset and calling thread, and fails on an agent at <see cref="PoisonX"/>.
/// </summary>
internal sealed class EchoPolicy(TimeSpan delay = default) : IChunkPolicy
{
    public static PolicyMetadata PushTLike { get; } = new([new ObsKey("agent_pos", [2])], NObsSteps: 2, Horizon: 16, NActionSteps: 8, ActionDim: 2, ControlHz: 10);

    public const float PoisonX = -12345;

    public PolicyMetadata Metadata => PushTLike;

    public ConcurrentQueue<ObservationWindow> Windows { get; } = new();

    public ConcurrentQueue<string> Resets { get; } = new();

    public ConcurrentDictionary<int, int> Threads { get; } = new();

    public InferenceResult Infer(ObservationWindow window, CancellationToken cancellationToken)
    {
        Threads.TryAdd(Environment.CurrentManagedThreadId, 0);
        Windows.Enqueue(window);
        if (delay > TimeSpan.Zero)
        {
            Task.Delay(delay, cancellationToken).Wait(cancellationToken);
        }
        var newest = window.At("agent_pos", window.Steps - 1);
        if (newest[0] == PoisonX)
        {
            throw new InvalidOperationException("poisoned observation");
        }
        var actions = new float[Metadata.PredictedSteps * 2];
        for (var i = 0; i < Metadata.PredictedSteps; i++)
        {
            actions[2 * i] = newest[0] + 0.01f * i;
            actions[2 * i + 1] = newest[1];
        }
        return new InferenceResult(actions, Iterations: 3, Evaluations: 24);
    }

    public void Reset(string robot)
    {
        Threads.TryAdd(Environment.CurrentManagedThreadId, 0);
        Resets.Enqueue(robot);
    }
}
