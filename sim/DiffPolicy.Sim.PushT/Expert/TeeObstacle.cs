using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Expert;

/// <summary>The T at a pose as an obstacle for the agent's centre: distances to it and a ring of waypoints around it.</summary>
internal sealed class TeeObstacle
{
    readonly Vec2[] bar = new Vec2[4];
    readonly Vec2[] stem = new Vec2[4];

    public TeeObstacle(in Pose pose)
    {
        for (var i = 0; i < 4; i++)
        {
            bar[i] = pose.Apply(TeeShape.Bar[i]);
            stem[i] = pose.Apply(TeeShape.Stem[i]);
        }
    }

    /// <summary>Distance from a point to the T (0 inside).</summary>
    public double Distance(Vec2 p) => Math.Min(PointToQuad(p, bar), PointToQuad(p, stem));

    /// <summary>Smallest distance between the segment a–b and the T (0 if it crosses the T).</summary>
    public double Clearance(Vec2 a, Vec2 b) => Math.Min(SegmentToQuad(a, b, bar), SegmentToQuad(a, b, stem));

    /// <summary>
    /// The T's convex hull grown by <paramref name="radius"/> (mitred corners), counter-clockwise on screen:
    /// walking between neighbouring ring points keeps at least <paramref name="radius"/> from the T.
    /// </summary>
    public Vec2[] Ring(double radius)
    {
        var hull = ConvexHull([.. bar, .. stem]);
        var ring = new Vec2[hull.Length];
        var sign = SignedArea(hull) > 0 ? 1.0 : -1.0;
        for (var i = 0; i < hull.Length; i++)
        {
            var prev = hull[(i + hull.Length - 1) % hull.Length];
            var next = hull[(i + 1) % hull.Length];
            var n1 = (hull[i] - prev).Normalized.RPerp * sign;
            var n2 = (next - hull[i]).Normalized.RPerp * sign;
            ring[i] = hull[i] + (n1 + n2) * (radius / (1.0 + n1.Dot(n2)));
        }
        return ring;
    }

    static double PointToQuad(Vec2 p, Vec2[] quad)
    {
        if (Inside(p, quad))
        {
            return 0.0;
        }
        var best = double.PositiveInfinity;
        for (var i = 0; i < 4; i++)
        {
            best = Math.Min(best, PointToSegment(p, quad[i], quad[(i + 1) & 3]));
        }
        return best;
    }

    static double SegmentToQuad(Vec2 a, Vec2 b, Vec2[] quad)
    {
        if (Inside(a, quad) || Inside(b, quad))
        {
            return 0.0;
        }
        var best = double.PositiveInfinity;
        for (var i = 0; i < 4; i++)
        {
            var p = quad[i];
            var q = quad[(i + 1) & 3];
            if (Cross(a, b, p) * Cross(a, b, q) < 0 && Cross(p, q, a) * Cross(p, q, b) < 0)
            {
                return 0.0;
            }
            best = Math.Min(best, Math.Min(PointToSegment(a, p, q), PointToSegment(b, p, q)));
            best = Math.Min(best, PointToSegment(p, a, b));
        }
        return best;
    }

    static double Cross(Vec2 o, Vec2 a, Vec2 b) => (a - o).Cross(b - o);

    static bool Inside(Vec2 p, Vec2[] quad)
    {
        var positive = 0;
        var negative = 0;
        for (var i = 0; i < 4; i++)
        {
            var c = Cross(quad[i], quad[(i + 1) & 3], p);
            if (c > 0)
            {
                positive++;
            }
            else if (c < 0)
            {
                negative++;
            }
        }
        return positive == 0 || negative == 0;
    }

    internal static double PointToSegment(Vec2 p, Vec2 a, Vec2 b)
    {
        var d = b - a;
        var t = Math.Clamp(d.Dot(p - a) / d.LengthSquared, 0.0, 1.0);
        return (a + d * t - p).Length;
    }

    static Vec2[] ConvexHull(Vec2[] points)
    {
        var sorted = points.OrderBy(p => p.X).ThenBy(p => p.Y).ToArray();
        var hull = new List<Vec2>();
        for (var pass = 0; pass < 2; pass++)
        {
            var start = hull.Count;
            foreach (var p in sorted)
            {
                while (hull.Count >= start + 2 && Cross(hull[^2], hull[^1], p) <= 0)
                {
                    hull.RemoveAt(hull.Count - 1);
                }
                hull.Add(p);
            }
            hull.RemoveAt(hull.Count - 1);
            Array.Reverse(sorted);
        }
        return [.. hull];
    }

    static double SignedArea(Vec2[] polygon)
    {
        var sum = 0.0;
        for (var i = 0; i < polygon.Length; i++)
        {
            sum += polygon[i].Cross(polygon[(i + 1) % polygon.Length]);
        }
        return sum / 2;
    }
}
