using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>What happens where a newer chunk takes over from the plan of an older one (docs/realtime.md).</summary>
public enum ChunkSeam
{
    /// <summary>The newer chunk replaces the plan from its first usable step on.</summary>
    Naive,

    /// <summary>
    /// Where both plan a step, 0.3 × the older action + 0.7 × the newer one (lerobot's async client, its default
    /// <c>weighted_average</c> aggregate function); the newer chunk alone after the overlap.
    /// </summary>
    Blend,

    /// <summary>
    /// The robot sends what it still has planned with its request, the steps that will run before the chunk can be
    /// used marked frozen, and the sampler inpaints them into the new chunk; the chunk then replaces the plan as naive.
    /// </summary>
    Inpaint,
}

/// <summary>The seams' one rule each.</summary>
public static class ChunkSeams
{
    /// <summary><see cref="ChunkSeam.Blend"/>: lerobot's <c>weighted_average</c>, 0.3 × older + 0.7 × newer.</summary>
    public static Vec2 Blend(Vec2 older, Vec2 newer) => 0.3 * older + 0.7 * newer;
}
