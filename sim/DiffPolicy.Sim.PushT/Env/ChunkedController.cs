using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// Runs an action-chunking policy one control step at a time, as DiffusionPolicy's MultiStepWrapper
/// does: every step's observation goes to the <see cref="IChunkSource"/>, and when the first n_action_steps
/// actions of the previous chunk are used up the source is asked for a new one starting at that step. A request the
/// source answers with <see cref="Refused"/> (a policy server's <c>overloaded</c>, docs/protocol.md §4a) holds the agent
/// where it is for that step and is asked again at the next. Use one controller per episode.
/// </summary>
public sealed class ChunkedController
{
    readonly IChunkSource source;
    readonly int actionSteps;
    readonly Queue<Vec2> pending = new();
    readonly List<int> sources = [];
    long step;

    /// <param name="actionSteps">n_action_steps: actions executed from each chunk.</param>
    public ChunkedController(IChunkSource source, int actionSteps)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(actionSteps, 1);
        this.source = source;
        this.actionSteps = actionSteps;
    }

    /// <summary>What an <see cref="IChunkSource"/> returns for a request the policy server refused: no chunk this step.</summary>
    public static IReadOnlyList<Vec2> Refused { get; } = new System.Collections.ObjectModel.ReadOnlyCollection<Vec2>([]);

    /// <summary>Chunks received so far.</summary>
    public int Chunks { get; private set; }

    /// <summary>Requests answered with <see cref="Refused"/>.</summary>
    public int Refusals { get; private set; }

    /// <summary>Steps held after a refused request before the episode's first chunk.</summary>
    public int StartupTicks { get; private set; }

    /// <summary>Steps held after a refused request once a chunk had run.</summary>
    public int DeadlineMisses { get; private set; }

    /// <summary>Per executed step, the index of the chunk that planned its action.</summary>
    public IReadOnlyList<int> Sources => sources;

    public Vec2 Act(PushTEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var request = pending.Count == 0;
        var chunk = source.Observe(step++, env, request);
        if (request && ReferenceEquals(chunk, Refused))
        {
            Refusals++;
            if (Chunks == 0) StartupTicks++;
            else DeadlineMisses++;
            sources.Add(Chunks == 0 ? ExecutedActions.Startup : ExecutedActions.Held);
            var state = env.State;
            return new Vec2(state.AgentX, state.AgentY);
        }
        if (request)
        {
            if (chunk is null || chunk.Count < actionSteps)
                throw new InvalidOperationException($"The policy returned {chunk?.Count ?? 0} actions, fewer than n_action_steps = {actionSteps}.");
            foreach (var action in chunk.Take(actionSteps)) pending.Enqueue(action);
            Chunks++;
        }
        sources.Add(Chunks - 1);
        return pending.Dequeue();
    }
}
