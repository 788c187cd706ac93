using DiffPolicy.Protocol;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Robot;

/// <summary>
/// One real-time episode (docs/protocol.md §4): step k begins at start + k·dt and a late tick skips steps. Each tick
/// observes, asks for a chunk when at most <see cref="PushTRobotOptions.Lead"/> planned actions remain, and applies the
/// action planned for the step, else holds position (a deadline miss once the episode's first chunk has come). Between
/// ticks it takes chunks in, dropping actions for steps already begun; a newer chunk replaces the plan from its first
/// step on (<see cref="ChunkSeam.Naive"/>), or is blended with it where both plan a step (<see cref="ChunkSeam.Blend"/>); under
/// <see cref="ChunkSeam.Inpaint"/> each request carries the plan from its step on, the steps expected to run before the
/// chunk arrives marked frozen (<see cref="PushTRobotOptions.LatencySteps"/>, else the slowest of the last three round
/// trips in steps). A request refused with <c>overloaded</c> is asked again at the next tick. In stateless
/// mode the robot keeps its own observation history and sends it with each request, and nothing on the other ticks.
/// </summary>
internal sealed class RealTimeDriver(PushTRobot robot, long episode, Action<ChunkTiming>? chunkArrived)
{
    readonly double dt = robot.Policy.Dt;
    readonly int lead = robot.Options.Lead ?? PushTRobotOptions.DefaultLead(robot.Policy);
    readonly SortedDictionary<long, (Vec2 Action, int Chunk)> plan = [];
    readonly Dictionary<ulong, double> asked = [];
    readonly List<ChunkTiming> timings = [];
    readonly List<int> sources = [];
    readonly Queue<double> recentLatencies = new();
    readonly List<(long Step, PushTObservation Observation)> history = [];
    double start = double.NaN;
    long step = -1, lastPlanned = -1;
    ulong firstSeq;
    int chunks, misses, startupTicks, skipped, dropped, overloaded, timedOut, missRun, longestMissRun;

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
        var expired = asked.Keys.Where(seq => now - asked[seq] > robot.Options.RequestTimeout.TotalSeconds).ToList();
        expired.ForEach(seq => asked.Remove(seq));
        if (chunks > 0) timedOut += expired.Count;
        var infer = remaining <= lead && asked.Count == 0;
        var observation = robot.Observer.Observe(env);
        var prior = infer && robot.Options.Seam == ChunkSeam.Inpaint ? Prior(k) : null;
        ulong seq = 0;
        if (robot.Options.Stateless)
        {
            history.Add((k, observation));
            if (history.Count > robot.Policy.NObsSteps) history.RemoveAt(0);
            if (infer) seq = robot.SendInfer(episode, k, Window(k), robot.Options.DeadlineMs);
        }
        else
        {
            seq = robot.SendObservation(episode, k, observation, infer, prior, robot.Options.DeadlineMs);
        }
        if (firstSeq == 0) firstSeq = seq;
        if (infer) asked[seq] = robot.Now;

        foreach (var old in plan.Keys.Where(s => s < k).ToList()) plan.Remove(old);
        if (plan.Remove(k, out var planned))
        {
            missRun = 0;
            sources.Add(planned.Chunk);
            return planned.Action;
        }
        sources.Add(chunks == 0 ? ExecutedActions.Startup : ExecutedActions.Held);
        if (chunks == 0)
        {
            startupTicks++;
        }
        else
        {
            misses++;
            longestMissRun = Math.Max(longestMissRun, ++missRun);
        }
        var state = env.State;
        return new Vec2(state.AgentX, state.AgentY);
    }

    public RobotEpisode Report(Episode run, int rehellos) =>
        new(run, chunks, misses, startupTicks, skipped, dropped, rehellos, timings, sources) { Overloaded = overloaded, LongestMissRun = longestMissRun, TimedOut = timedOut };

    ActionPrior? Prior(long k)
    {
        var actions = new List<Vec2>();
        for (var s = k; plan.TryGetValue(s, out var planned); s++) actions.Add(planned.Action);
        if (actions.Count == 0) return null;
        var frozen = robot.Options.LatencySteps
            ?? (recentLatencies.Count == 0 ? 0 : (int)Math.Ceiling(recentLatencies.Max() / 1000 / dt));
        return new ActionPrior(actions, Math.Min(frozen, actions.Count));
    }

    /// <summary>
    /// The n_obs_steps observations ending at <paramref name="newest"/>, padded as the server pads a history: a step
    /// before the first observation repeats it, a skipped step repeats the observation before it.
    /// </summary>
    PushTObservation Window(long newest)
    {
        var n = robot.Policy.NObsSteps;
        return PushTObservation.Stack([.. Enumerable.Range(0, n).Select(i => history.LastOrDefault(h => h.Step <= newest - (n - 1) + i, history[0]).Observation)]);
    }

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
                case ProtocolError { Code: ErrorCodes.Overloaded, Seq: { } refused } when asked.Remove(refused):
                    // The server could not answer in time: ask again at the next tick.
                    overloaded++;
                    break;
                case ProtocolError { Code: ErrorCodes.Overloaded }:
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
            var action = actions[i];
            if (robot.Options.Seam == ChunkSeam.Blend && plan.TryGetValue(s, out var older)) action = ChunkSeams.Blend(older.Action, action);
            plan[s] = (action, chunks);
            lastPlanned = Math.Max(lastPlanned, s);
        }
        chunks++;
        recentLatencies.Enqueue(latency);
        if (recentLatencies.Count > 3) recentLatencies.Dequeue();
        var timing = new ChunkTiming(latency, chunk.Timing.InferMs, chunk.Timing.Iterations, chunk.Timing.Evaluations, slack,
            chunk.Certificate?.ConvergedSteps, chunk.Certificate?.Steps);
        timings.Add(timing);
        chunkArrived?.Invoke(timing);
    }
}
