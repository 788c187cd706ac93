using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// Deterministic simulated latency: a chunk asked for at step k becomes usable at step k + d, and until then the
/// robot executes what it already has, as a real-time robot does (docs/protocol.md §4) but on the simulation's clock.
/// A chunk is asked for when at most <c>lead</c> planned actions remain and none is on its way; a step with no planned
/// action holds position (before the first chunk a startup tick, after it a deadline miss). With d = 0 and lead =
/// n_actions − n_action_steps this is exactly lockstep (<see cref="ChunkedController"/>): each chunk is asked for at
/// the step its first action is for, and the next one n_action_steps later. Use one controller per episode.
/// </summary>
public sealed class LatencyController
{
    readonly IChunkSource source;
    readonly int lead, latency;
    readonly ChunkSeam seam;
    readonly SortedDictionary<long, (Vec2 Action, int Chunk)> plan = [];
    readonly List<int> sources = [];
    (long Usable, long Asked, IReadOnlyList<Vec2> Actions)? pending;
    long step;
    int merged;

    /// <param name="lead">Ask when at most this many planned actions remain (n_actions − n_action_steps for DiffusionPolicy's cadence).</param>
    /// <param name="latencySteps">d: steps from a request to its chunk being usable.</param>
    public LatencyController(IChunkSource source, int lead, int latencySteps, ChunkSeam seam)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(lead);
        ArgumentOutOfRangeException.ThrowIfNegative(latencySteps);
        this.source = source;
        this.lead = lead;
        latency = latencySteps;
        this.seam = seam;
    }

    /// <summary>Chunks asked for so far.</summary>
    public int Chunks { get; private set; }

    /// <summary>Steps held before the first chunk was usable.</summary>
    public int StartupTicks { get; private set; }

    /// <summary>Steps held after it: no chunk planned them.</summary>
    public int DeadlineMisses { get; private set; }

    /// <summary>Requests the source answered with <see cref="ChunkedController.Refused"/> (overloaded): asked again at the next step.</summary>
    public int Refusals { get; private set; }

    /// <summary>Per executed step, the index of the chunk that planned its action, <see cref="ExecutedActions.Held"/> or <see cref="ExecutedActions.Startup"/>.</summary>
    public IReadOnlyList<int> Sources => sources;

    public Vec2 Act(PushTEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var k = step++;
        while (plan.Count > 0 && plan.First().Key < k) plan.Remove(plan.First().Key);
        if (pending is { } arrived && arrived.Usable == k) Merge(arrived);
        var remaining = plan.Count;
        var request = pending is null && remaining <= lead;
        var prior = request && seam == ChunkSeam.Inpaint ? Prior(k) : null;
        var chunk = source.Observe(k, env, request, prior);
        if (request && ReferenceEquals(chunk, ChunkedController.Refused))
        {
            Refusals++;   // the plan runs on; asked again at the next step
        }
        else if (request)
        {
            if (chunk is null || chunk.Count == 0) throw new InvalidOperationException("The policy returned no actions.");
            pending = (k + latency, k, chunk);
            Chunks++;
            if (latency == 0) Merge(pending.Value);
        }
        if (plan.TryGetValue(k, out var planned))
        {
            sources.Add(planned.Chunk);
            return planned.Action;
        }
        if (merged > 0)
        {
            DeadlineMisses++;
            sources.Add(ExecutedActions.Held);
        }
        else
        {
            StartupTicks++;
            sources.Add(ExecutedActions.Startup);
        }
        var state = env.State;
        return new Vec2(state.AgentX, state.AgentY);
    }

    /// <summary>The plan from step k on, as long as it runs without a gap; the first d of it will run before the chunk is usable.</summary>
    ActionPrior? Prior(long k)
    {
        var actions = new List<Vec2>();
        for (var s = k; plan.TryGetValue(s, out var planned); s++) actions.Add(planned.Action);
        return actions.Count == 0 ? null : new ActionPrior(actions, Math.Min(latency, actions.Count));
    }

    void Merge((long Usable, long Asked, IReadOnlyList<Vec2> Actions) chunk)
    {
        pending = null;
        var index = merged++;
        for (var i = 0; i < chunk.Actions.Count; i++)
        {
            var s = chunk.Asked + i;
            if (s < chunk.Usable) continue;
            var action = chunk.Actions[i];
            if (seam == ChunkSeam.Blend && plan.TryGetValue(s, out var older)) action = ChunkSeams.Blend(older.Action, action);
            plan[s] = (action, index);
        }
        // Steps beyond the new chunk keep nothing of an older plan: the newest chunk decides what comes after it.
        foreach (var s in plan.Keys.Where(s => s >= chunk.Asked + chunk.Actions.Count).ToList()) plan.Remove(s);
    }
}
