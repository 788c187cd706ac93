namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>
/// One contact point of a shape pair: offsets from the two bodies' centres of gravity, the solver's cached
/// quantities and the accumulated impulses that warm-start the next substep when the same feature pair
/// (<see cref="Feature"/>) is found again.
/// </summary>
internal struct Contact
{
    public Vec2 R1;
    public Vec2 R2;
    public double NormalMass;
    public double Bias;
    public double NormalImpulse;
    public double BiasImpulse;
    public int Feature;
}
