using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Expert;

/// <summary>
/// A collision-free way for the agent to reach a point next to the T: straight if the line is clear, otherwise
/// along a ring of waypoints around the T's convex hull, whichever way round is shorter.
/// </summary>
internal sealed record ApproachPath(IReadOnlyList<Vec2> Points, double Length)
{
    public static ApproachPath? Plan(Vec2 from, Vec2 to, TeeObstacle tee, Vec2[] ring, double clearance)
    {
        // Leaving a contact is allowed: the first leg only has to keep the clearance the agent already has.
        var firstLegClearance = Math.Min(clearance, tee.Distance(from) - 0.5);
        if (tee.Clearance(from, to) >= firstLegClearance && tee.Clearance(from, to) >= Math.Min(clearance, tee.Distance(to) - 0.5))
        {
            return new ApproachPath([from, to], (to - from).Length);
        }
        var n = ring.Length;
        var exits = new double[n];
        var entries = new double[n];
        for (var i = 0; i < n; i++)
        {
            exits[i] = tee.Clearance(from, ring[i]) >= firstLegClearance ? (ring[i] - from).Length : double.PositiveInfinity;
            entries[i] = tee.Clearance(ring[i], to) >= clearance ? (to - ring[i]).Length : double.PositiveInfinity;
        }
        var perimeter = new double[n];
        for (var i = 0; i < n; i++)
        {
            perimeter[i] = (ring[(i + 1) % n] - ring[i]).Length;
        }
        var best = double.PositiveInfinity;
        (int Exit, int Entry, int Direction) choice = default;
        for (var i = 0; i < n; i++)
        {
            if (double.IsPositiveInfinity(exits[i]))
            {
                continue;
            }
            for (var j = 0; j < n; j++)
            {
                if (double.IsPositiveInfinity(entries[j]))
                {
                    continue;
                }
                foreach (var direction in (ReadOnlySpan<int>)[1, -1])
                {
                    var length = exits[i] + entries[j];
                    for (var k = i; k != j; k = (k + direction + n) % n)
                    {
                        length += perimeter[direction > 0 ? k : (k - 1 + n) % n];
                    }
                    if (length < best)
                    {
                        best = length;
                        choice = (i, j, direction);
                    }
                }
            }
        }
        if (double.IsPositiveInfinity(best))
        {
            return null;
        }
        var points = new List<Vec2> { from };
        for (var k = choice.Exit; ; k = (k + choice.Direction + n) % n)
        {
            points.Add(ring[k]);
            if (k == choice.Entry)
            {
                break;
            }
        }
        points.Add(to);
        return new ApproachPath(points, best);
    }

    /// <summary>Pure pursuit: the point <paramref name="lookahead"/> further along the path than the point nearest to <paramref name="agent"/>.</summary>
    public Vec2 Pursue(Vec2 agent, double lookahead)
    {
        var bestDistance = double.PositiveInfinity;
        var bestArc = 0.0;
        var arc = 0.0;
        for (var i = 0; i + 1 < Points.Count; i++)
        {
            var a = Points[i];
            var d = Points[i + 1] - a;
            var segment = d.Length;
            var t = segment > 0 ? Math.Clamp(d.Dot(agent - a) / (segment * segment), 0.0, 1.0) : 0.0;
            var distance = (a + d * t - agent).Length;
            if (distance < bestDistance)
            {
                bestDistance = distance;
                bestArc = arc + t * segment;
            }
            arc += segment;
        }
        return PointAt(bestArc + lookahead);
    }

    Vec2 PointAt(double arc)
    {
        for (var i = 0; i + 1 < Points.Count; i++)
        {
            var segment = (Points[i + 1] - Points[i]).Length;
            if (arc <= segment)
            {
                return Vec2.Lerp(Points[i], Points[i + 1], segment > 0 ? arc / segment : 0);
            }
            arc -= segment;
        }
        return Points[^1];
    }
}
