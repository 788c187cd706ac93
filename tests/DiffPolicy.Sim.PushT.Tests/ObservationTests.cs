using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Tests;

public class ObservationTests
{
    [Fact]
    public void Legacy_reset_rotates_the_block_about_its_centre_of_gravity()
    {
        // Placed at angle 0 the centre of gravity is origin + (0, 45); turning to angle a about it puts the origin
        // at cog − R(a)·(0, 45). No contact in this state, so the reset substep leaves the block there.
        var angle = 1.1;
        var env = new PushTEnv(new PushTState(60, 60, 300, 250, angle));
        var s = env.State;
        Assert.Equal(300 + 45 * Math.Sin(angle), s.BlockX, 9);
        Assert.Equal(250 + 45 - 45 * Math.Cos(angle), s.BlockY, 9);
        Assert.Equal(angle, s.BlockAngle);
    }

    [Fact]
    public void Keypoints_are_the_eight_t_corners_then_the_agent()
    {
        var env = new PushTEnv(new PushTState(60, 70, 300, 250, 0.0));
        var k = env.Keypoints();
        Assert.Equal(18, k.Length);
        // Angle 0 leaves the origin in place: corners are the local vertices shifted by (300, 250).
        double[] expected = [240, 280, 360, 280, 360, 250, 240, 250, 285, 280, 285, 370, 315, 370, 315, 280, 60, 70];
        for (var i = 0; i < 18; i++)
        {
            Assert.Equal(expected[i], k[i], 9);
        }
    }

    [Fact]
    public void State_observation_wraps_the_angle_into_zero_to_two_pi()
    {
        var env = new PushTEnv(new PushTState(60, 60, 300, 250, -12.149403559114889));
        var obs = env.StateObservation();
        Assert.Equal(5, obs.Length);
        Assert.InRange(obs[4], 0.0, 2 * Math.PI);
        Assert.Equal(-12.149403559114889 + 4 * Math.PI, obs[4], 12);
        Assert.Equal(env.State.BlockX, obs[2]);
    }

    [Fact]
    public void Reward_is_coverage_over_095_clipped_and_success_above_095()
    {
        var env = new PushTEnv(new PushTState(60, 60, 300, 250, 0.3));
        var result = env.Step(new Vec2(60, 60));
        Assert.Equal(Math.Clamp(result.Coverage / 0.95, 0, 1), result.Reward, 15);
        Assert.Equal(result.Coverage > 0.95, result.Success);
    }

    [Fact]
    public void Bad_actions_and_states_are_rejected_with_a_message()
    {
        var env = new PushTEnv(3);
        Assert.Throws<ArgumentException>(() => env.Step(new Vec2(double.NaN, 1)));
        Assert.Throws<ArgumentException>(() => PushTState.FromArray([1, 2, 3]));
        Assert.Throws<ArgumentException>(() => PushTState.FromArray([1, 2, 3, 4, double.PositiveInfinity]));
    }
}
