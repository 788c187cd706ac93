namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>A rigid transform: world = rotation·local + translation, with the rotation as (cos, sin).</summary>
public readonly record struct Pose(Vec2 Translation, Vec2 Rotation)
{
    public static Pose FromOriginAndAngle(Vec2 origin, double angle) => new(origin, new Vec2(Math.Cos(angle), Math.Sin(angle)));

    /// <summary>Chipmunk's body transform: the body rotates about its centre of gravity at <paramref name="cogWorld"/>.</summary>
    public static Pose AboutCenterOfGravity(Vec2 cogWorld, Vec2 rotation, Vec2 cogLocal) => new(
        new Vec2(
            cogWorld.X - (cogLocal.X * rotation.X - cogLocal.Y * rotation.Y),
            cogWorld.Y - (cogLocal.X * rotation.Y + cogLocal.Y * rotation.X)),
        rotation);

    public Vec2 Apply(Vec2 local) => new(
        Rotation.X * local.X + -Rotation.Y * local.Y + Translation.X,
        Rotation.Y * local.X + Rotation.X * local.Y + Translation.Y);

    public Vec2 ApplyToVector(Vec2 local) => new(
        Rotation.X * local.X + -Rotation.Y * local.Y,
        Rotation.Y * local.X + Rotation.X * local.Y);
}
