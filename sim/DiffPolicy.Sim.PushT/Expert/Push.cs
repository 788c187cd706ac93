using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Expert;

/// <summary>
/// One planned push: reach <see cref="Start"/> (next to the T) along <see cref="Approach"/>, then command the
/// targets of <see cref="Targets"/> one per control step, and the error the simulation predicts afterwards.
/// </summary>
internal sealed record Push(ApproachPath Approach, Vec2 Start, IReadOnlyList<Vec2> Targets, double PredictedError);
