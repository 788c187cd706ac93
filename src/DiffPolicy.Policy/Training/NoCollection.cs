using System.Runtime;

namespace DiffPolicy.Policy.Training;

/// <summary>
/// Runs a training step with the garbage collector held off. The step's Scalars are not ours to hold (see
/// <see cref="HeldScalars"/>): TorchSharp's AdamW makes them per call, and the EMA's decay changes every step. A Scalar
/// can only be finalized after a collection finds it unreachable, so with no collection inside the step none of them
/// can be freed while libtorch reads it; collections happen between steps.
/// </summary>
internal static class NoCollection
{
    /// <summary>Managed bytes a step may allocate (tensor wrappers and Scalars; tensor data is native and not counted).</summary>
    const long Budget = 64L << 20;

    /// <summary>Runs <paramref name="step"/>; returns whether no collection ran inside it.</summary>
    public static bool Run(Action step)
    {
        // Inside an open region the step runs as before: starting another would end that one (the runtime throws and
        // leaves no region open).
        var held = GCSettings.LatencyMode != GCLatencyMode.NoGCRegion && GC.TryStartNoGCRegion(Budget);
        try
        {
            step();
        }
        finally
        {
            // A step that allocated beyond the budget ended the region with a collection; there is nothing to end then.
            held = held && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;
            if (held) GC.EndNoGCRegion();
        }
        return held;
    }
}
