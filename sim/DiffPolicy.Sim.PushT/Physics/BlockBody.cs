namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>
/// The T block as a Chipmunk body: <see cref="Position"/> is its centre of gravity in world coordinates, the
/// bias velocities are the split-impulse pseudo-velocities that correct penetration without adding momentum.
/// </summary>
internal struct BlockBody
{
    public const double InverseMass = 1.0 / TeeShape.Mass;
    public const double InverseMoment = 1.0 / TeeShape.Moment;

    public Vec2 Position;
    public double Angle;
    public Vec2 Rotation;
    public Vec2 Velocity;
    public double AngularVelocity;
    public Vec2 BiasVelocity;
    public double BiasAngularVelocity;

    public readonly Pose Pose => Pose.AboutCenterOfGravity(Position, Rotation, TeeShape.CenterOfGravity);

    public void SetAngle(double angle)
    {
        Angle = angle;
        Rotation = new Vec2(Math.Cos(angle), Math.Sin(angle));
    }

    public void ApplyImpulse(Vec2 impulse, Vec2 offset)
    {
        Velocity += impulse * InverseMass;
        AngularVelocity += InverseMoment * offset.Cross(impulse);
    }

    public void ApplyBiasImpulse(Vec2 impulse, Vec2 offset)
    {
        BiasVelocity += impulse * InverseMass;
        BiasAngularVelocity += InverseMoment * offset.Cross(impulse);
    }
}
