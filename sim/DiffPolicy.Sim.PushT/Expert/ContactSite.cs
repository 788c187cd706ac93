using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Expert;

/// <summary>A point on the T's outline (body-local) with the outline's outward normal there.</summary>
internal readonly record struct ContactSite(Vec2 Point, Vec2 Normal)
{
    /// <summary>Points every <paramref name="spacing"/> pixels along the eight outer edges of the T.</summary>
    public static ContactSite[] AlongOutline(double spacing)
    {
        (Vec2 From, Vec2 To, Vec2 Normal)[] edges =
        [
            (new(-60, 0), new(60, 0), new(0, -1)),      // bar top
            (new(60, 0), new(60, 30), new(1, 0)),       // bar right end
            (new(60, 30), new(15, 30), new(0, 1)),      // bar underside, right of the stem
            (new(15, 30), new(15, 120), new(1, 0)),     // stem right side
            (new(15, 120), new(-15, 120), new(0, 1)),   // stem end
            (new(-15, 120), new(-15, 30), new(-1, 0)),  // stem left side
            (new(-15, 30), new(-60, 30), new(0, 1)),    // bar underside, left of the stem
            (new(-60, 30), new(-60, 0), new(-1, 0)),    // bar left end
        ];
        var sites = new List<ContactSite>();
        foreach (var (from, to, normal) in edges)
        {
            var length = (to - from).Length;
            var count = Math.Max(1, (int)Math.Round(length / spacing));
            for (var k = 0; k < count; k++)
            {
                sites.Add(new ContactSite(Vec2.Lerp(from, to, (k + 0.5) / count), normal));
            }
        }
        return [.. sites];
    }
}
