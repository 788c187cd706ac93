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
        MinX = Math.Min(a.X, b.X) - radius;
        MaxX = Math.Max(a.X, b.X) + radius;
        MinY = Math.Min(a.Y, b.Y) - radius;
        MaxY = Math.Max(a.Y, b.Y) + radius;
    }

    public Vec2 A { get; }
    public Vec2 B { get; }
    public Vec2 Normal { get; }
    public double Radius { get; }
    public double MinX { get; }
    public double MinY { get; }
    public double MaxX { get; }
    public double MaxY { get; }
}
