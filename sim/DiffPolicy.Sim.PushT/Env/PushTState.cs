using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// The original's 5-number state: agent x, y, block origin x, y, block angle (radians, not wrapped).
/// </summary>
public readonly record struct PushTState(double AgentX, double AgentY, double BlockX, double BlockY, double BlockAngle)
{
    public Vec2 Agent => new(AgentX, AgentY);
    public Vec2 Block => new(BlockX, BlockY);

    public double[] ToArray() => [AgentX, AgentY, BlockX, BlockY, BlockAngle];

    public static PushTState FromArray(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count != 5)
        {
            throw new ArgumentException($"a PushT state has 5 numbers (agent x, y, block x, y, angle), got {values.Count}", nameof(values));
        }
        foreach (var v in values)
        {
            if (!double.IsFinite(v))
            {
                throw new ArgumentException("a PushT state must be finite", nameof(values));
            }
        }
        return new PushTState(values[0], values[1], values[2], values[3], values[4]);
    }

    /// <summary>
    /// The original's seeded reset draw: numpy RandomState(seed), agent from randint(50, 450), block from
    /// randint(100, 400), angle randn()·2π − π (Gaussian, not uniform).
    /// </summary>
    public static PushTState Sample(long seed)
    {
        if (seed is < 0 or > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(seed), seed, "numpy seeds are in [0, 2^32)");
        }
        var rs = new NumpyRandomState((uint)seed);
        var ax = rs.RandInt(50, 450);
        var ay = rs.RandInt(50, 450);
        var bx = rs.RandInt(100, 400);
        var by = rs.RandInt(100, 400);
        var angle = rs.RandN() * 2 * Math.PI - Math.PI;
        return new PushTState(ax, ay, bx, by, angle);
    }
}
