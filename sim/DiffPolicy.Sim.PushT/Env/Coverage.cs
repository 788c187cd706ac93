using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// Exact overlap of two T poses: the T is two rectangles sharing an edge, so the intersection area of two Ts is
/// the sum of the four rectangle–rectangle intersections (each a convex clip).
/// </summary>
public static class Coverage
{
    /// <summary>Area of (T at <paramref name="a"/>) ∩ (T at <paramref name="b"/>) over the T's area.</summary>
    public static double Of(in Pose a, in Pose b)
    {
        Span<Vec2> ra = stackalloc Vec2[4];
        Span<Vec2> rb = stackalloc Vec2[4];
        var area = 0.0;
        for (var i = 0; i < 2; i++)
        {
            Place(i == 0 ? TeeShape.Bar : TeeShape.Stem, a, ra);
            for (var j = 0; j < 2; j++)
            {
                Place(j == 0 ? TeeShape.Bar : TeeShape.Stem, b, rb);
                area += ConvexIntersectionArea(ra, rb);
            }
        }
        return area / TeeShape.Area;
    }

    static void Place(IReadOnlyList<Vec2> local, in Pose pose, Span<Vec2> world)
    {
        for (var k = 0; k < 4; k++)
        {
            world[k] = pose.Apply(local[k]);
        }
    }

    /// <summary>Area of the intersection of two convex polygons (any winding), by Sutherland–Hodgman clipping.</summary>
    internal static double ConvexIntersectionArea(ReadOnlySpan<Vec2> subject, ReadOnlySpan<Vec2> clip)
    {
        // A convex polygon clipped by k half-planes has at most n + k vertices.
        Span<Vec2> bufferA = stackalloc Vec2[subject.Length + clip.Length];
        Span<Vec2> bufferB = stackalloc Vec2[subject.Length + clip.Length];
        subject.CopyTo(bufferA);
        var count = subject.Length;
        var input = bufferA;
        var output = bufferB;
        var orientation = Math.Sign(SignedArea(clip));
        for (var e = 0; e < clip.Length && count > 0; e++)
        {
            var p = clip[e];
            var q = clip[(e + 1) % clip.Length];
            var outCount = 0;
            for (var k = 0; k < count; k++)
            {
                var cur = input[k];
                var prev = input[(k + count - 1) % count];
                var curSide = orientation * (q - p).Cross(cur - p);
                var prevSide = orientation * (q - p).Cross(prev - p);
                if (curSide >= 0)
                {
                    if (prevSide < 0)
                    {
                        output[outCount++] = Intersect(prev, cur, prevSide, curSide);
                    }
                    output[outCount++] = cur;
                }
                else if (prevSide >= 0)
                {
                    output[outCount++] = Intersect(prev, cur, prevSide, curSide);
                }
            }
            count = outCount;
            var swap = input;
            input = output;
            output = swap;
        }
        return count < 3 ? 0.0 : Math.Abs(SignedArea(input[..count]));
    }

    static Vec2 Intersect(Vec2 a, Vec2 b, double sideA, double sideB) => a + (b - a) * (sideA / (sideA - sideB));

    static double SignedArea(ReadOnlySpan<Vec2> polygon)
    {
        var sum = 0.0;
        for (var k = 0; k < polygon.Length; k++)
        {
            sum += polygon[k].Cross(polygon[(k + 1) % polygon.Length]);
        }
        return 0.5 * sum;
    }
}
