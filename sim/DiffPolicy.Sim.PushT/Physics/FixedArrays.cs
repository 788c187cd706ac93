using System.Runtime.CompilerServices;

namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>Four vectors stored inline, so polygons live in structs without heap arrays.</summary>
[InlineArray(4)]
internal struct Vec2x4
{
    Vec2 element;
}

/// <summary>The (at most two) contacts of one shape pair, stored inline.</summary>
[InlineArray(2)]
internal struct ContactPair
{
    Contact element;
}
