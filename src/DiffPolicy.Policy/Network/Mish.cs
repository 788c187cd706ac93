using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// Mish, x·tanh(softplus(x)). From a few thousand elements on (a ParaDiGMS window of 8 samples and more) the same
/// function written with one exponential, x·n/(n+2) with n = eˣ(eˣ+2), is faster than libtorch's mish kernel despite
/// its extra operations (measured in docs/sampling.md, Performance).
/// </summary>
internal static class Mish
{
    /// <summary>Below this many elements the fixed cost of the extra operations outweighs the kernel's.</summary>
    const long ExponentialFormFrom = 4096;

    /// <summary>Beyond x = 20, tanh(softplus(x)) is 1 in float32; clamping keeps e²ˣ finite. Held (<see cref="HeldScalars"/>).</summary>
    static readonly Scalar Saturation = 20.0.ToScalar();

    public static Tensor Apply(Tensor x)
    {
        if (x.numel() < ExponentialFormFrom) return nn.functional.mish(x);
        using var scope = NewDisposeScope();
        var e = x.clamp_max(Saturation).exp();
        if (is_grad_enabled())
        {
            var n = e * e.add(HeldScalars.Two, HeldScalars.One);
            return (x * n / n.add(HeldScalars.Two, HeldScalars.One)).MoveToOuterDisposeScope();
        }
        // Without autograd the intermediates may be overwritten: half the allocations.
        var m = e.mul_(e.add(HeldScalars.Two, HeldScalars.One));
        return m.div_(m.add(HeldScalars.Two, HeldScalars.One)).mul_(x).MoveToOuterDisposeScope();
    }
}
