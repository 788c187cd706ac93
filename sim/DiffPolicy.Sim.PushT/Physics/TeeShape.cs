namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>
/// The T block in body-local coordinates (scale 30; origin = middle of the bar's top edge) and its mass
/// properties as the original sets them: mass 1, moment 3000 (the bar's moment about the origin counted twice)
/// and centre of gravity (0, 45), the unweighted mean of the two rectangle centroids.
/// </summary>
public static class TeeShape
{
    public const double Mass = 1.0;
    public const double Moment = 3000.0;
    public static readonly Vec2 CenterOfGravity = new(0.0, 45.0);

    /// <summary>The bar's corners in the original's vertex order (also the keypoint order).</summary>
    public static IReadOnlyList<Vec2> Bar { get; } = [new(-60, 30), new(60, 30), new(60, 0), new(-60, 0)];

    /// <summary>The stem's corners in the original's vertex order (also the keypoint order).</summary>
    public static IReadOnlyList<Vec2> Stem { get; } = [new(-15, 30), new(-15, 120), new(15, 120), new(15, 30)];

    /// <summary>Area of the T: 120×30 + 30×90.</summary>
    public const double Area = 6300.0;

    // Chipmunk stores a polygon as the convex hull of its vertices, starting at the lowest-x (then lowest-y)
    // corner and running counter-clockwise in y-up terms. Keeping that order keeps support-point ties and the
    // contact feature ids the same as the original's.
    internal static readonly Vec2[] BarHull = [new(-60, 0), new(60, 0), new(60, 30), new(-60, 30)];
    internal static readonly Vec2[] StemHull = [new(-15, 30), new(15, 30), new(15, 120), new(-15, 120)];
}
