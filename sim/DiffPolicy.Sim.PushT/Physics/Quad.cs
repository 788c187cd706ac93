namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>
/// A convex quadrilateral in world coordinates: vertices counter-clockwise (y-up terms) and, for vertex i,
/// the outward unit normal of the edge from vertex i−1 to vertex i (Chipmunk's splitting-plane layout).
/// </summary>
internal struct Quad
{
    public Vec2x4 Vertices;
    public Vec2x4 Normals;
    public double MinX, MinY, MaxX, MaxY;

    public static Quad FromLocal(ReadOnlySpan<Vec2> hull, ReadOnlySpan<Vec2> localNormals, in Pose pose)
    {
        var quad = default(Quad);
        quad.MinX = quad.MinY = double.PositiveInfinity;
        quad.MaxX = quad.MaxY = double.NegativeInfinity;
        for (var i = 0; i < 4; i++)
        {
            var v = pose.Apply(hull[i]);
            quad.Vertices[i] = v;
            quad.Normals[i] = pose.ApplyToVector(localNormals[i]);
            quad.MinX = Math.Min(quad.MinX, v.X);
            quad.MaxX = Math.Max(quad.MaxX, v.X);
            quad.MinY = Math.Min(quad.MinY, v.Y);
            quad.MaxY = Math.Max(quad.MaxY, v.Y);
        }
        return quad;
    }

    /// <summary>Outward edge normals of a counter-clockwise hull, in Chipmunk's layout.</summary>
    public static Vec2[] EdgeNormals(ReadOnlySpan<Vec2> hull)
    {
        var normals = new Vec2[hull.Length];
        for (var i = 0; i < hull.Length; i++)
        {
            normals[i] = (hull[i] - hull[(i + hull.Length - 1) % hull.Length]).Normalized.RPerp;
        }
        return normals;
    }

    /// <summary>Index of the vertex furthest along <paramref name="direction"/> (the first one on ties).</summary>
    public readonly int SupportIndex(Vec2 direction)
    {
        var best = double.NegativeInfinity;
        var index = 0;
        for (var i = 0; i < 4; i++)
        {
            var d = Vertices[i].Dot(direction);
            if (d > best)
            {
                best = d;
                index = i;
            }
        }
        return index;
    }

    public readonly bool Overlaps(double minX, double minY, double maxX, double maxY) =>
        MinX <= maxX && minX <= MaxX && MinY <= maxY && minY <= MaxY;
}
