using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>Where a <see cref="ChunkedController"/> gets its actions: a policy in this process or a policy server.</summary>
public interface IChunkSource
{
    /// <summary>
    /// Observes <paramref name="env"/> at <paramref name="step"/> (before its action) as its policy does. With
    /// <paramref name="request"/> it returns the actions for steps <paramref name="step"/>, <paramref name="step"/> + 1, …;
    /// otherwise null. <paramref name="prior"/> is what the robot still has planned (<see cref="ChunkSeam.Inpaint"/>).
    /// </summary>
    IReadOnlyList<Vec2>? Observe(long step, PushTEnv env, bool request, ActionPrior? prior = null);
}
