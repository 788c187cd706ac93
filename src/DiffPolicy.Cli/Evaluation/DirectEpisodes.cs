using System.Diagnostics;
using DiffPolicy.Control;
using DiffPolicy.Sim.PushT.Physics;
using DiffPolicy.Sim.PushT.Task;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>Episodes that call the policy in this process, without sockets; episode number = seed, as over ZeroMQ.</summary>
public sealed class DirectEpisodes(IChunkPolicy policy) : IEpisodeRunner
{
    const string Robot = "eval";

    public string Transport => "direct";

    public (Episode Episode, IReadOnlyList<ChunkTiming> Chunks) Run(long seed, int maxSteps, Action<PushTEnv, Vec2?>? observe)
    {
        var metadata = policy.Metadata;
        var key = metadata.ObsKeys[0].Name;
        var timings = new List<ChunkTiming>();
        policy.Reset(Robot);
        var source = new WindowedChunkSource(metadata.NObsSteps, (step, window, prior) =>
        {
            var started = Stopwatch.GetTimestamp();
            var chunk = policy.Infer(new ObservationWindow(Robot, seed, step, metadata.NObsSteps, new Dictionary<string, float[]> { [key] = window }), CancellationToken.None);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            timings.Add(new ChunkTiming(ms, ms, chunk.Iterations, chunk.Evaluations));
            var actions = new Vec2[chunk.Actions.Length / 2];
            for (int k = 0; k < actions.Length; k++) actions[k] = new Vec2(chunk.Actions[2 * k], chunk.Actions[2 * k + 1]);
            return actions;
        });
        var controller = new ChunkedController(source, metadata.NActionSteps);
        return (Episode.Run(seed, controller.Act, maxSteps, observe), timings);
    }

    public void Dispose() => policy.Reset(Robot);
}
