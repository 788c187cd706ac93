using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;
using DiffPolicy.Sim.PushT.Rendering;

namespace DiffPolicy.Sim.PushT.Tests;

/// <summary>
/// PushTImageEnv's observation (diffusion_policy): the 512×512 pygame canvas resized by cv2's INTER_LINEAR to 96×96. The
/// reference is the scene's geometry: an output pixel samples the four canvas pixels around ((i + ½)·512/96 − ½) in each
/// axis, pygame's pixel (u, v) being the point (u, v); where all four lie well inside one region the pixel is that
/// region's colour exactly — pygame's named colours (LightGreen goal, RoyalBlue agent with a 1.2× lighter core, the block
/// filled with LightSlateGray × 1.2, white background).
/// </summary>
public class ImageObservationTests
{
    static readonly byte[] White = [255, 255, 255];
    static readonly byte[] GoalGreen = [144, 238, 144];
    static readonly byte[] AgentRoyalBlue = [65, 105, 225];
    static readonly byte[] AgentCore = [78, 126, 255];        // min(255, int(1.2 · RoyalBlue))
    static readonly byte[] BlockFill = [142, 163, 183];       // int(1.2 · LightSlateGray (119, 136, 153))

    /// <summary>The four canvas points an output pixel interpolates between (cv2 INTER_LINEAR, half-pixel centres).</summary>
    static Vec2[] Footprint(int i, int j, int size)
    {
        var scale = 512.0 / size;
        var u = Math.Floor(((i + 0.5) * scale) - 0.5);
        var v = Math.Floor(((j + 0.5) * scale) - 0.5);
        return [new(u, v), new(u + 1, v), new(u, v + 1), new(u + 1, v + 1)];
    }

    static Vec2 ToLocal(Pose pose, Vec2 p)
    {
        var d = p - pose.Translation;
        var (c, s) = (pose.Rotation.X, pose.Rotation.Y);
        return new Vec2((c * d.X) + (s * d.Y), (-s * d.X) + (c * d.Y));
    }

    /// <summary>Signed depth of <paramref name="p"/> inside the T at <paramref name="pose"/>: positive inside, the distance to the nearest edge.</summary>
    static double Depth(Pose pose, Vec2 p)
    {
        var q = ToLocal(pose, p);
        static double Box(Vec2 q, double x0, double x1, double y0, double y1) => Math.Min(Math.Min(q.X - x0, x1 - q.X), Math.Min(q.Y - y0, y1 - q.Y));
        return Math.Max(Box(q, -60, 60, 0, 30), Box(q, -15, 15, 30, 120));
    }

    [Theory]
    [InlineData(100, 400, 350, 120, 0.0)]
    [InlineData(300, 180, 150, 300, 2.1)]
    [InlineData(100, 100, 256, 256, Math.PI / 4)]   // the block on the goal
    public void Pixels_well_inside_a_region_have_its_colour_exactly(double ax, double ay, double bx, double by, double angle)
    {
        var env = new PushTEnv(new PushTState(ax, ay, bx, by, angle));
        var image = SceneRenderer.Observation(env);
        Assert.Equal(96 * 96 * 3, image.Length);
        var agent = env.State.Agent;
        var checkedPixels = new Dictionary<string, int>();
        for (var j = 0; j < 96; j++)
        {
            for (var i = 0; i < 96; i++)
            {
                var points = Footprint(i, j, 96);
                var toAgent = points.Select(p => (p - agent).Length).ToArray();
                var block = points.Select(p => Depth(env.BlockPose, p)).ToArray();
                var goal = points.Select(p => Depth(PushTEnv.Goal, p)).ToArray();
                // Margins cover pygame's rounding of positions (½ px), the block's 4-px outline and the circles' rasterisation.
                (string Name, byte[] Colour)? region =
                    toAgent.Max() < 9.5 ? ("agent core", AgentCore)
                    : toAgent.Min() > 12.5 && toAgent.Max() < 13.5 ? ("agent rim", AgentRoyalBlue)
                    : toAgent.Min() < 16.5 ? null
                    : block.Min() > 3 ? ("block", BlockFill)
                    : block.Max() > -3 ? null
                    : goal.Min() > 1.5 ? ("goal", GoalGreen)
                    : goal.Max() < -1.5 && points.All(p => p.X is > 10 and < 501 && p.Y is > 10 and < 501) ? ("background", White)
                    : null;
                if (region is not { } r) continue;
                var offset = 3 * ((j * 96) + i);
                Assert.True(r.Colour.AsSpan().SequenceEqual(image.AsSpan(offset, 3)),
                    $"pixel ({i}, {j}) in the {r.Name}: expected ({string.Join(", ", r.Colour)}), got ({string.Join(", ", image[offset..(offset + 3)])})");
                checkedPixels[r.Name] = checkedPixels.GetValueOrDefault(r.Name) + 1;
            }
        }
        Assert.True(checkedPixels.GetValueOrDefault("agent core") >= 4, "too few agent pixels checked");
        Assert.True(checkedPixels.GetValueOrDefault("block") >= 20, "too few block pixels checked");
        Assert.True(checkedPixels.GetValueOrDefault("background") >= 3000, "too few background pixels checked");
        if (angle != Math.PI / 4) Assert.True(checkedPixels.GetValueOrDefault("goal") >= 20, "too few goal pixels checked");
    }

    [Fact]
    public void The_observation_is_deterministic_follows_the_scene_and_has_no_action_marker()
    {
        var state = new PushTState(100, 400, 350, 120, 0.3);
        var first = SceneRenderer.Observation(new PushTEnv(state));
        Assert.Equal(first, SceneRenderer.Observation(new PushTEnv(state)));
        Assert.NotEqual(first, SceneRenderer.Observation(new PushTEnv(state with { AgentX = 110 })));
        // PushTImageEnv draws the red action marker on its render cache only, never into the observation.
        var env = new PushTEnv(state);
        env.Step(new Vec2(450, 60));
        var image = SceneRenderer.Observation(env);
        for (var p = 0; p < image.Length; p += 3)
            Assert.False(image[p] > 200 && image[p + 1] < 60 && image[p + 2] < 60, $"a red pixel at {p / 3}");
        Assert.Equal(84 * 84 * 3, SceneRenderer.Observation(env, 84).Length);
    }

    [Fact]
    public void The_image_observer_sends_the_render_and_the_agent_position_and_windows_stack_oldest_first()
    {
        var env = new PushTEnv(100_003);
        var observer = PushTObserver.Image("image", "agent_pos");
        var now = observer.Observe(env);
        var agent = env.State.Agent;
        Assert.Equal([(float)agent.X, (float)agent.Y], now.Values["agent_pos"]);
        Assert.Equal(SceneRenderer.Observation(env), now.Frames["image"]);
        Assert.Equal(["agent_pos"], now.Values.Keys);

        env.Step(new Vec2(200, 200));
        var next = observer.Observe(env);
        var window = PushTObservation.Stack([now, next]);
        Assert.Equal([.. now.Frames["image"], .. next.Frames["image"]], window.Frames["image"]);
        Assert.Equal([.. now.Values["agent_pos"], .. next.Values["agent_pos"]], window.Values["agent_pos"]);

        var keypoints = PushTObserver.Keypoints("keypoint").Observe(env);
        Assert.Equal(Array.ConvertAll(env.Keypoints(), v => (float)v), keypoints.Values["keypoint"]);
        Assert.Empty(keypoints.Frames);
    }
}
