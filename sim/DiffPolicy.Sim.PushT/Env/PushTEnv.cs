using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// The PushT task (real-stanford/diffusion_policy's PushTEnv, legacy reset order): a 512×512 world, a kinematic
/// agent driven towards the commanded target by a PD controller (k_p 100, k_v 20) for 10 physics substeps of
/// 0.01 s per 10 Hz control step, and a T block to push onto the goal pose.
/// </summary>
public sealed class PushTEnv
{
    public const double WorldSize = 512.0;
    public const double SuccessThreshold = 0.95;
    public const int SubstepsPerStep = 10;
    public const double SubstepDt = 0.01;
    const double Kp = 100.0;
    const double Kv = 20.0;

    /// <summary>Goal pose of the block: origin (256, 256), angle π/4.</summary>
    public static readonly Pose Goal = Pose.FromOriginAndAngle(new Vec2(256, 256), Math.PI / 4);

    PushTWorld world;

    /// <summary>A reset from the original's seeded draw (<see cref="PushTState.Sample"/>).</summary>
    public PushTEnv(long seed) : this(PushTState.Sample(seed))
    {
    }

    /// <summary>
    /// A reset to a state like the original's legacy <c>_set_state</c>: agent placed, block origin placed at
    /// angle 0, then turned to the angle about its centre of gravity (so the origin moves), then one substep.
    /// </summary>
    public PushTEnv(PushTState state)
    {
        world = Place(state);
        world.Step(SubstepDt);
    }

    PushTEnv(PushTWorld world) => this.world = world;

    /// <summary>
    /// A what-if copy for planning: the block where it is now (at rest, no contact history) and the agent at rest
    /// at <paramref name="agentPosition"/>, without a reset substep.
    /// </summary>
    internal PushTEnv Fork(Vec2 agentPosition) => new(new PushTWorld(agentPosition, world.Block.Position, world.Block.Angle));

    /// <summary>An independent copy of the whole simulation state.</summary>
    public PushTEnv Clone() => new(world.Clone());

    static PushTWorld Place(PushTState state)
    {
        var values = state.ToArray();
        if (!Array.TrueForAll(values, double.IsFinite))
        {
            throw new ArgumentException("a PushT state must be finite", nameof(state));
        }
        return new PushTWorld(state.Agent, state.Block + TeeShape.CenterOfGravity, state.BlockAngle);
    }

    /// <summary>Agent x, y, block origin x, y, block angle (not wrapped).</summary>
    public PushTState State
    {
        get
        {
            var origin = world.Block.Pose.Translation;
            return new PushTState(world.AgentPosition.X, world.AgentPosition.Y, origin.X, origin.Y, world.Block.Angle);
        }
    }

    /// <summary>The block's body transform (local T coordinates → world).</summary>
    public Pose BlockPose => world.Block.Pose;

    public double Coverage => Env.Coverage.Of(BlockPose, Goal);

    /// <summary>One control step towards the absolute target <paramref name="action"/> (pixels).</summary>
    public StepResult Step(Vec2 action)
    {
        if (!action.IsFinite)
        {
            throw new ArgumentException($"action must be finite, got ({action.X}, {action.Y})", nameof(action));
        }
        var contacts = 0;
        for (var i = 0; i < SubstepsPerStep; i++)
        {
            DriveAgent(world, action);
            world.Step(SubstepDt);
            contacts += world.ActiveContacts;
        }
        var coverage = Coverage;
        return new StepResult(
            coverage,
            Math.Clamp(coverage / SuccessThreshold, 0.0, 1.0),
            coverage > SuccessThreshold,
            (contacts + SubstepsPerStep - 1) / SubstepsPerStep);
    }

    /// <summary>The nearest point of the action space [0, 512]².</summary>
    public static Vec2 ClampToWorld(Vec2 p) => new(Math.Clamp(p.X, 0, WorldSize), Math.Clamp(p.Y, 0, WorldSize));

    /// <summary>The PD controller's velocity update for one substep towards <paramref name="target"/>.</summary>
    internal static void DriveAgent(PushTWorld world, Vec2 target)
    {
        var acceleration = Kp * (target - world.AgentPosition) + Kv * (Vec2.Zero - world.AgentVelocity);
        world.AgentVelocity += acceleration * SubstepDt;
    }

    /// <summary>The original's <c>state</c> observation: agent x, y, block x, y, angle mod 2π.</summary>
    public double[] StateObservation()
    {
        var s = State;
        return [s.AgentX, s.AgentY, s.BlockX, s.BlockY, PythonModulo(s.BlockAngle, 2 * Math.PI)];
    }

    /// <summary>The 8 T corners in world coordinates (bar then stem, the original's vertex order), then the agent: 18 numbers.</summary>
    public double[] Keypoints()
    {
        var pose = BlockPose;
        var result = new double[18];
        var k = 0;
        foreach (var local in TeeShape.Bar.Concat(TeeShape.Stem))
        {
            var p = pose.Apply(local);
            result[k++] = p.X;
            result[k++] = p.Y;
        }
        result[16] = world.AgentPosition.X;
        result[17] = world.AgentPosition.Y;
        return result;
    }

    /// <summary>Python's float <c>a % b</c> for b &gt; 0: fmod, shifted into [0, b).</summary>
    static double PythonModulo(double a, double b)
    {
        var mod = a % b;
        return mod < 0 ? mod + b : mod;
    }

    internal PushTWorld World => world;
}
