using CsCheck;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Tests;

public class CoverageTests
{
    static readonly Gen<Pose> AnyPose =
        Gen.Select(Gen.Double[0, 512], Gen.Double[0, 512], Gen.Double[-10, 10], (x, y, a) => Pose.FromOriginAndAngle(new Vec2(x, y), a));

    [Fact]
    public void Coverage_of_the_goal_pose_is_one() => Assert.Equal(1.0, Coverage.Of(PushTEnv.Goal, PushTEnv.Goal), 12);

    [Theory]
    [InlineData(0.5)]
    [InlineData(3.0)]
    [InlineData(12.0)]
    [InlineData(29.0)]
    public void A_sideways_or_downward_shift_loses_120_delta_of_6300(double delta)
    {
        // Shifting an axis-aligned T by delta < 30 in x loses delta·30 of the bar and delta·90 of the stem;
        // in y it loses 120·delta of the bar and 30·delta of the stem but gains 30·delta where stem meets bar.
        var expected = 1.0 - 120.0 * delta / 6300.0;
        var at = Pose.FromOriginAndAngle(new Vec2(200, 200), 0);
        Assert.Equal(expected, Coverage.Of(at, Pose.FromOriginAndAngle(new Vec2(200 + delta, 200), 0)), 12);
        Assert.Equal(expected, Coverage.Of(at, Pose.FromOriginAndAngle(new Vec2(200, 200 + delta), 0)), 12);
    }

    [Fact]
    public void Coverage_is_symmetric_and_a_fraction() =>
        Gen.Select(AnyPose, AnyPose).Sample((a, b) =>
        {
            var ab = Coverage.Of(a, b);
            return ab is >= 0.0 and <= 1.0 + 1e-12 && Math.Abs(ab - Coverage.Of(b, a)) < 1e-9;
        });

    [Fact]
    public void Coverage_is_invariant_under_moving_both_poses_together() =>
        Gen.Select(AnyPose, AnyPose, Gen.Double[-3, 3]).Sample((a, b, turn) =>
        {
            var rotation = new Vec2(Math.Cos(turn), Math.Sin(turn));
            Pose Move(Pose p) => new(p.Translation.Rotate(rotation) + new Vec2(17, -5), p.Rotation.Rotate(rotation));
            return Math.Abs(Coverage.Of(a, b) - Coverage.Of(Move(a), Move(b))) < 1e-9;
        });

    [Fact]
    public void Convex_intersection_area_matches_the_exact_area_of_overlapping_squares()
    {
        // Two unit-free squares [0,10]² and [4,14]×[6,16] overlap in a 6 × 4 rectangle; and a 45°-rotated square
        // of half-diagonal 5 centred on a corner of [0,10]² covers a quarter of its 50 area.
        Vec2[] a = [new(0, 0), new(10, 0), new(10, 10), new(0, 10)];
        Vec2[] b = [new(4, 6), new(14, 6), new(14, 16), new(4, 16)];
        Vec2[] diamond = [new(5, 0), new(0, 5), new(-5, 0), new(0, -5)];
        Assert.Equal(24.0, Coverage.ConvexIntersectionArea(a, b), 12);
        Assert.Equal(12.5, Coverage.ConvexIntersectionArea(a, diamond), 12);
        Assert.Equal(12.5, Coverage.ConvexIntersectionArea(diamond, a), 12);
    }
}
