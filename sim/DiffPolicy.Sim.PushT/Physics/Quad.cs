namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>
/// A convex quadrilateral in world coordinates: vertices counter-clockwise (y-up terms) and, for vertex i,
/// the outward unit normal of the edge from vertex i−1 to vertex i (Chipmunk's splitting-plane layout).
/// </summary>
internal struct Quad
{
    public Vec2x4 Vertices;
    public Vec2x4 Normals;
    public Box Bounds;

    public static Quad FromLocal(ReadOnlySpan<Vec2> hull, ReadOnlySpan<Vec2> localNormals, in Pose pose)
    {
        var quad = default(Quad);
        double minX = double.PositiveInfinity, minY = double.PositiveInfinity;
        double maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
        for (var i = 0; i < 4; i++)
        {
            var v = pose.Apply(hull[i]);
            quad.Vertices[i] = v;
            quad.Normals[i] = pose.ApplyToVector(localNormals[i]);
            minX = Math.Min(minX, v.X);
            maxX = Math.Max(maxX, v.X);
            minY = Math.Min(minY, v.Y);
            maxY = Math.Max(maxY, v.Y);
        }
        quad.Bounds = new Box(minX, minY, maxX, maxY);
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
}
