using DiffPolicy.Protocol;
using DiffPolicy.Sim.PushT.Physics;
using DiffPolicy.Sim.PushT.Task;

namespace DiffPolicy.Sim.PushT.Robot;

/// <summary>
/// One real-time episode (docs/protocol.md §4): step k begins at start + k·dt and a late tick skips steps. Each tick
/// observes, asks for a chunk when at most <see cref="PushTRobotOptions.Lead"/> planned actions remain, and applies the
/// action planned for the step, else holds position (a deadline miss once the episode's first chunk has come). Between
/// ticks it takes chunks in, dropping actions for steps already begun; a newer chunk replaces the plan from its first
/// step on.
/// </summary>
internal sealed class RealTimeDriver(PushTRobot robot, long episode, Action<ChunkTiming>? chunkArrived)
{
    readonly double dt = robot.Policy.Dt;
    readonly int lead = robot.Options.Lead ?? PushTRobotOptions.DefaultLead(robot.Policy);
    readonly SortedDictionary<long, Vec2> plan = [];
    readonly Dictionary<ulong, double> asked = [];
    readonly List<ChunkTiming> timings = [];
    double start = double.NaN;
    long step = -1, lastPlanned = -1;
    ulong firstSeq;
    int chunks, misses, startupTicks, skipped, dropped;

    public Vec2 Act(PushTEnv env)
    {
        if (double.IsNaN(start))
        {
            start = robot.Now;
        }
        else
        {
            TakeChunksUntil(start + (step + 1) * dt);
        }
        var now = robot.Now;
        var k = Math.Max(step + 1, (long)Math.Floor((now - start) / dt));
        skipped += (int)(k - step - 1);
        step = k;

        var remaining = plan.Keys.Count(s => s >= k);
        asked.Keys.Where(seq => now - asked[seq] > robot.Options.RequestTimeout.TotalSeconds).ToList().ForEach(seq => asked.Remove(seq));
        var infer = remaining <= lead && asked.Count == 0;
        var keypoints = Array.ConvertAll(env.Keypoints(), v => (float)v);
        var seq = robot.SendObservation(episode, k, keypoints, infer);
        if (firstSeq == 0) firstSeq = seq;
        if (infer) asked[seq] = robot.Now;

        foreach (var old in plan.Keys.Where(s => s < k).ToList()) plan.Remove(old);
        if (plan.Remove(k, out var action)) return action;
        if (chunks == 0) startupTicks++;
        else misses++;
        var state = env.State;
        return new Vec2(state.AgentX, state.AgentY);
    }

    public RobotEpisode Report(Episode run, int rehellos) =>
        new(run, chunks, misses, startupTicks, skipped, dropped, rehellos, timings);

    void TakeChunksUntil(double tick)
    {
        while (robot.Now < tick)
        {
            var message = robot.Receive(TimeSpan.FromSeconds(tick - robot.Now));
            switch (message)
            {
                case null:
                    break;
                case ActionChunk chunk when chunk.Episode == episode && chunk.ObsSeq >= firstSeq:
                    Take(chunk);
                    break;
                case ActionChunk:
                    break;
                default:
                    if (robot.HandleOther(message))
                    {
                        // The new session has no history and no request of ours: the next tick asks again.
                        asked.Clear();
                    }
                    break;
            }
        }
    }

    void Take(ActionChunk chunk)
    {
        var now = robot.Now;
        double? slack = chunks == 0 ? null : (start + (lastPlanned + 1) * dt - now) * 1000;
        var latency = asked.Remove(chunk.ObsSeq, out var sentAt) ? (now - sentAt) * 1000 : (now - chunk.ObsTime) * 1000;
        var actions = LockstepSource.Actions(chunk);
        for (var i = 0; i < actions.Length; i++)
        {
            var s = chunk.StartStep + i;
            if (s <= step)
            {
                dropped++;
                continue;
            }
            plan[s] = actions[i];
            lastPlanned = Math.Max(lastPlanned, s);
        }
        chunks++;
        var timing = new ChunkTiming(latency, chunk.Timing.InferMs, chunk.Timing.Iterations, chunk.Timing.Evaluations, slack);
        timings.Add(timing);
        chunkArrived?.Invoke(timing);
    }
}
