namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>A contact point as collision detection finds it: surface points of both shapes in world coordinates.</summary>
internal struct ContactPoint
{
    public Vec2 PointA;
    public Vec2 PointB;
    public int Feature;
}

/// <summary>
/// The result of colliding shape A with shape B: up to two contact points and the normal, which points from A
/// to B (B separates by moving along it).
/// </summary>
internal struct Manifold
{
    public Vec2 Normal;
    public int Count;
    public ContactPoint First;
    public ContactPoint Second;

    public void Add(Vec2 pointA, Vec2 pointB, int feature)
    {
        var point = new ContactPoint { PointA = pointA, PointB = pointB, Feature = feature };
        if (Count == 0)
        {
            First = point;
        }
        else
        {
            Second = point;
        }
        Count++;
    }
}
