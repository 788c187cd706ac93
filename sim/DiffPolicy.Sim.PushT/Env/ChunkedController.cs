using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// Runs an action-chunking policy one control step at a time, as DiffusionPolicy's MultiStepWrapper
/// does: every step's keypoint observation goes to the <see cref="IChunkSource"/>, and when the first n_action_steps
/// actions of the previous chunk are used up the source is asked for a new one starting at that step. Use one
/// controller per episode.
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

    /// <summary>Chunks requested so far.</summary>
    public int Chunks { get; private set; }

    /// <summary>Per executed step, the index of the chunk that planned its action.</summary>
    public IReadOnlyList<int> Sources => sources;

    public Vec2 Act(PushTEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var keypoints = Array.ConvertAll(env.Keypoints(), v => (float)v);
        var request = pending.Count == 0;
        var chunk = source.Observe(step++, keypoints, request);
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
