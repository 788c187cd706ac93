using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Expert;

/// <summary>
/// How far the block is from the goal: the mean distance (pixels) between its eight corners and the goal's.
/// The T has no symmetry, so this measures position and angle together without wrap-around.
/// </summary>
internal static class GoalError
{
    static readonly Vec2[] Corners = [.. TeeShape.Bar, .. TeeShape.Stem];
    static readonly Vec2[] GoalCorners = [.. Corners.Select(c => PushTEnv.Goal.Apply(c))];

    public static double Of(in Pose block)
    {
        var sum = 0.0;
        for (var i = 0; i < Corners.Length; i++)
        {
            sum += (block.Apply(Corners[i]) - GoalCorners[i]).Length;
        }
        return sum / Corners.Length;
    }
}
