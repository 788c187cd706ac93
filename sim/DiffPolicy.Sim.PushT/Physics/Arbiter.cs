namespace DiffPolicy.Sim.PushT.Physics;

internal enum ArbiterState
{
    /// <summary>Touching for the first time (or again after a gap): its cached impulses are not re-applied.</summary>
    FirstCollision,
    /// <summary>Touching in consecutive substeps: warm-started.</summary>
    Normal,
    /// <summary>Not touching now, kept for a few substeps so its impulses can seed a renewed contact.</summary>
    Cached,
}

/// <summary>The persistent contact state of one shape pair (Chipmunk's cpArbiter, frictionless, inelastic).</summary>
internal struct Arbiter
{
    public bool Exists;
    public ArbiterState State;
    public long Stamp;
    public Vec2 Normal;
    public int Count;
    public ContactPair Contacts;
}
