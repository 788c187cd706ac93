namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>A static segment with a radius (a capsule), with Chipmunk's normal rperp(normalize(b − a)).</summary>
internal readonly struct Wall
{
    public Wall(Vec2 a, Vec2 b, double radius)
    {
        A = a;
        B = b;
        Radius = radius;
        Normal = (b - a).Normalized.RPerp;
        Bounds = new Box(Math.Min(a.X, b.X) - radius, Math.Min(a.Y, b.Y) - radius, Math.Max(a.X, b.X) + radius, Math.Max(a.Y, b.Y) + radius);
    }

    public Vec2 A { get; }
    public Vec2 B { get; }
    public Vec2 Normal { get; }
    public double Radius { get; }
    public Box Bounds { get; }
}
