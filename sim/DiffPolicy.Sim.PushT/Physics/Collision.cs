namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>
/// Narrow-phase collision with Chipmunk 7's conventions: the closest points of the two cores (what its GJK/EPA
/// returns), a contact when the cores are within the sum of the radii, and for segment–polygon pairs up to two
/// points clipped from the two support edges. Features identify the (segment end, polygon vertex) pair of a
/// point so a contact can be matched across substeps; circle contacts have the single feature 0.
/// </summary>
internal static class Collision
{
    /// <summary>Circle (shape A) against a convex polygon with zero radius (shape B).</summary>
    public static void CircleToQuad(Vec2 center, double radius, in Quad quad, ref Manifold manifold)
    {
        Vec2 normal, closest;
        double distance;
        if (TryInsideDepth(center, quad, out var edge, out var depth))
        {
            // The centre is inside: the shortest way out is through the nearest edge.
            var outward = quad.Normals[edge];
            normal = -outward;
            closest = center + outward * depth;
            distance = -depth;
        }
        else
        {
            closest = ClosestOnBoundary(center, quad);
            var delta = closest - center;
            distance = delta.Length;
            normal = delta * (1.0 / (distance + Vec2.SmallestNormal));
        }
        if (distance <= radius)
        {
            manifold.Normal = normal;
            manifold.Add(center + normal * radius, closest, 0);
        }
    }

    /// <summary>Static segment with a radius (shape A) against a convex polygon with zero radius (shape B).</summary>
    public static void WallToQuad(in Wall wall, in Quad quad, ref Manifold manifold)
    {
        if (!ClosestAxis(wall, quad, out var normal, out var distance) || distance > wall.Radius)
        {
            return;
        }
        manifold.Normal = normal;

        // Support edge of the segment facing B, and of the polygon facing A (Chipmunk's SupportEdgeFor*).
        Vec2 a1, b1;
        int a1Id, b1Id;
        if (wall.Normal.Dot(normal) > 0.0)
        {
            (a1, b1, a1Id, b1Id) = (wall.A, wall.B, 0, 1);
        }
        else
        {
            (a1, b1, a1Id, b1Id) = (wall.B, wall.A, 1, 0);
        }
        var reverse = -normal;
        var i1 = quad.SupportIndex(reverse);
        var i0 = (i1 + 3) & 3;
        var i2 = (i1 + 1) & 3;
        int a2Id, b2Id;
        if (reverse.Dot(quad.Normals[i1]) > reverse.Dot(quad.Normals[i2]))
        {
            (a2Id, b2Id) = (i0, i1);
        }
        else
        {
            (a2Id, b2Id) = (i1, i2);
        }
        var a2 = quad.Vertices[a2Id];
        var b2 = quad.Vertices[b2Id];

        // Project each edge's ends onto the other edge (along the tangent), clamp, and keep the pairs that overlap.
        var da1 = a1.Cross(normal);
        var db1 = b1.Cross(normal);
        var da2 = a2.Cross(normal);
        var db2 = b2.Cross(normal);
        var denom1 = 1.0 / (db1 - da1 + Vec2.SmallestNormal);
        var denom2 = 1.0 / (db2 - da2 + Vec2.SmallestNormal);
        var offset1 = normal * wall.Radius;
        {
            var p1 = offset1 + Vec2.Lerp(a1, b1, Clamp01((db2 - da1) * denom1));
            var p2 = Vec2.Lerp(a2, b2, Clamp01((da1 - da2) * denom2));
            if ((p2 - p1).Dot(normal) <= 0.0)
            {
                manifold.Add(p1, p2, Feature(a1Id, b2Id));
            }
        }
        {
            var p1 = offset1 + Vec2.Lerp(a1, b1, Clamp01((da2 - da1) * denom1));
            var p2 = Vec2.Lerp(a2, b2, Clamp01((db1 - da2) * denom2));
            if ((p2 - p1).Dot(normal) <= 0.0)
            {
                manifold.Add(p1, p2, Feature(b1Id, a2Id));
            }
        }
    }

    static int Feature(int segmentEnd, int polygonVertex) => (segmentEnd << 4) | polygonVertex;

    static double Clamp01(double t) => t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;

    /// <summary>True when <paramref name="point"/> is inside; then the nearest edge and the distance to it.</summary>
    static bool TryInsideDepth(Vec2 point, in Quad quad, out int edge, out double depth)
    {
        edge = 0;
        depth = double.PositiveInfinity;
        for (var i = 0; i < 4; i++)
        {
            var d = quad.Normals[i].Dot(quad.Vertices[i] - point);
            if (d < 0.0)
            {
                return false;
            }
            if (d < depth)
            {
                depth = d;
                edge = i;
            }
        }
        return true;
    }

    static Vec2 ClosestOnBoundary(Vec2 point, in Quad quad)
    {
        var best = Vec2.Zero;
        var bestDistance = double.PositiveInfinity;
        for (var i = 0; i < 4; i++)
        {
            var c = ClosestOnSegment(point, quad.Vertices[(i + 3) & 3], quad.Vertices[i]);
            var d = (c - point).LengthSquared;
            if (d < bestDistance)
            {
                bestDistance = d;
                best = c;
            }
        }
        return best;
    }

    static Vec2 ClosestOnSegment(Vec2 point, Vec2 a, Vec2 b)
    {
        var delta = b - a;
        var t = Clamp01(delta.Dot(point - a) / delta.LengthSquared);
        return a + delta * t;
    }

    /// <summary>
    /// The minimum separating axis of the segment core (A) and the polygon (B), pointing from A to B, and the
    /// signed distance of the cores along it (negative when they overlap). False when the cores are certainly
    /// further apart than the segment radius.
    /// </summary>
    static bool ClosestAxis(in Wall wall, in Quad quad, out Vec2 normal, out double distance)
    {
        // Support of the Minkowski difference B − A along the face normals of B and of the segment.
        var minSupport = double.PositiveInfinity;
        var minAxis = Vec2.Zero;
        for (var k = 0; k < 6; k++)
        {
            var axis = k < 4 ? quad.Normals[k] : k == 4 ? wall.Normal : -wall.Normal;
            var support = quad.Vertices[quad.SupportIndex(axis)].Dot(axis) - Math.Min(wall.A.Dot(axis), wall.B.Dot(axis));
            if (support < minSupport)
            {
                minSupport = support;
                minAxis = axis;
            }
        }
        if (minSupport > 0.0)
        {
            // The cores overlap: leave through the nearest face of the Minkowski difference.
            normal = -minAxis;
            distance = -minSupport;
            return true;
        }
        if (-minSupport > wall.Radius)
        {
            normal = Vec2.Zero;
            distance = -minSupport;
            return false;
        }

        // Separated: the closest pair of points between the segment and the polygon's boundary.
        var bestA = Vec2.Zero;
        var bestB = Vec2.Zero;
        var best = double.PositiveInfinity;
        for (var i = 0; i < 4; i++)
        {
            var v = quad.Vertices[i];
            var onWall = ClosestOnSegment(v, wall.A, wall.B);
            Consider(onWall, v);
            var edgeStart = quad.Vertices[(i + 3) & 3];
            Consider(wall.A, ClosestOnSegment(wall.A, edgeStart, v));
            Consider(wall.B, ClosestOnSegment(wall.B, edgeStart, v));
        }
        var delta = bestB - bestA;
        distance = Math.Sqrt(best);
        normal = distance > 0.0 ? delta * (1.0 / distance) : -minAxis;
        return true;

        void Consider(Vec2 a, Vec2 b)
        {
            var d = (b - a).LengthSquared;
            if (d < best)
            {
                best = d;
                bestA = a;
                bestB = b;
            }
        }
    }
}
