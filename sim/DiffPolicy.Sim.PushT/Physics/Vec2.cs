namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>A 2-D vector in world pixels (y grows downward, as on screen). Operations mirror Chipmunk's cpVect.</summary>
public readonly record struct Vec2(double X, double Y)
{
    public static readonly Vec2 Zero = new(0.0, 0.0);

    public static Vec2 operator +(Vec2 a, Vec2 b) => new(a.X + b.X, a.Y + b.Y);
    public static Vec2 operator -(Vec2 a, Vec2 b) => new(a.X - b.X, a.Y - b.Y);
    public static Vec2 operator -(Vec2 a) => new(-a.X, -a.Y);
    public static Vec2 operator *(Vec2 a, double s) => new(a.X * s, a.Y * s);
    public static Vec2 operator *(double s, Vec2 a) => new(a.X * s, a.Y * s);

    public double Dot(Vec2 b) => X * b.X + Y * b.Y;

    /// <summary>The z component of the 3-D cross product.</summary>
    public double Cross(Vec2 b) => X * b.Y - Y * b.X;

    /// <summary>Rotated +90°: (−y, x).</summary>
    public Vec2 Perp => new(-Y, X);

    /// <summary>Rotated −90°: (y, −x).</summary>
    public Vec2 RPerp => new(Y, -X);

    public double LengthSquared => X * X + Y * Y;
    public double Length => Math.Sqrt(X * X + Y * Y);
    public Vec2 Normalized => this * (1.0 / (Length + SmallestNormal));

    /// <summary>DBL_MIN, which Chipmunk adds to lengths before dividing so a zero vector stays zero.</summary>
    internal const double SmallestNormal = 2.2250738585072014E-308;

    /// <summary>Linear interpolation a(1−t) + b t.</summary>
    public static Vec2 Lerp(Vec2 a, Vec2 b, double t) => a * (1.0 - t) + b * t;

    /// <summary>Complex multiplication: rotates this by the unit vector <paramref name="rotation"/>.</summary>
    public Vec2 Rotate(Vec2 rotation) => new(X * rotation.X - Y * rotation.Y, X * rotation.Y + Y * rotation.X);

    public bool IsFinite => double.IsFinite(X) && double.IsFinite(Y);
}
