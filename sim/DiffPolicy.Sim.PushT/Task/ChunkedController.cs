using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Task;

/// <summary>
/// Runs an action-chunking policy one control step at a time, as DiffusionPolicy's MultiStepWrapper
/// does: every step's keypoint observation goes to the <see cref="IChunkSource"/>, and when the previous chunk is
/// used up the source is asked for a new one starting at that step. Use one controller per episode.
/// </summary>
public sealed class ChunkedController
{
    readonly IChunkSource source;
    readonly Queue<Vec2> pending = new();
    long step;

    public ChunkedController(IChunkSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        this.source = source;
    }

    /// <summary>Chunks requested so far.</summary>
    public int Chunks { get; private set; }

    public Vec2 Act(PushTEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var keypoints = Array.ConvertAll(env.Keypoints(), v => (float)v);
        var request = pending.Count == 0;
        var chunk = source.Observe(step++, keypoints, request);
        if (request)
        {
            if (chunk is null || chunk.Count == 0) throw new InvalidOperationException("The policy returned an empty action chunk.");
            foreach (var action in chunk) pending.Enqueue(action);
            Chunks++;
        }
        return pending.Dequeue();
    }
}
