using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// Sent with a chunk request under <see cref="ChunkSeam.Inpaint"/>: the robot's planned actions for the request's step
/// and the steps after it, of which the first <paramref name="Frozen"/> will have run before the new chunk is usable.
/// </summary>
public sealed record ActionPrior(IReadOnlyList<Vec2> Actions, int Frozen);
