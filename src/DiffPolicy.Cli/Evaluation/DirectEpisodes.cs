using System.Diagnostics;
using DiffPolicy.Control;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;
using DiffPolicy.Sim.PushT.Robot;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>
/// Episodes that call the policy in this process, without sockets; episode number = seed, as over ZeroMQ. Lockstep or
/// simulated latency (real time needs a server).
/// </summary>
public sealed class DirectEpisodes : IEpisodeRunner
{
    const string Robot = "eval";
    readonly IChunkPolicy policy;
    readonly Execution execution;

    public DirectEpisodes(IChunkPolicy policy, Execution? execution = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        this.policy = policy;
        this.execution = execution ?? Execution.Lockstep;
        if (this.execution.Mode == EvalMode.Realtime) throw new ArgumentException("real time runs against a policy server, not in process", nameof(execution));
        if (this.execution.DeadlineMs is not null) throw new ArgumentException("deadlines are the policy server's (anytime answers), not in process", nameof(execution));
    }

    public string Transport => "direct";

    public EpisodeRun Run(long seed, int maxSteps, Action<PushTEnv, Vec2?>? observe)
    {
        var metadata = policy.Metadata;
        var observer = PushTRobot.ObserverFor(metadata, out var why) ?? throw new ArgumentException($"the policy {why}", nameof(policy));
        var timings = new List<ChunkTiming>();
        policy.Reset(Robot);
        var source = new WindowedChunkSource(metadata.NObsSteps, observer, (step, window, prior) =>
        {
            var started = Stopwatch.GetTimestamp();
            var observations = new ObservationWindow(Robot, seed, step, metadata.NObsSteps, window.Values) { Frames = window.Frames, Prior = PushTRobot.WirePrior(prior) };
            var chunk = policy.Infer(observations, CancellationToken.None);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            timings.Add(new ChunkTiming(ms, ms, chunk.Iterations, chunk.Evaluations, null, chunk.Certificate?.ConvergedSteps, chunk.Certificate?.Steps));
            var actions = new Vec2[chunk.Actions.Length / 2];
            for (var k = 0; k < actions.Length; k++) actions[k] = new Vec2(chunk.Actions[2 * k], chunk.Actions[2 * k + 1]);
            return actions;
        });
        if (execution.Mode == EvalMode.Lockstep)
        {
            var lockstep = new ChunkedController(source, metadata.NActionSteps);
            return new EpisodeRun(Episode.Run(seed, lockstep.Act, maxSteps, observe), timings, lockstep.Sources);
        }
        var lead = Math.Max(0, metadata.PredictedSteps - metadata.NActionSteps);
        var controller = new LatencyController(source, lead, execution.LatencySteps ?? 0, execution.Seam);
        var episode = Episode.Run(seed, controller.Act, maxSteps, observe);
        return new EpisodeRun(episode, timings, controller.Sources, controller.StartupTicks, controller.DeadlineMisses);
    }

    public void Dispose() => policy.Reset(Robot);
}
