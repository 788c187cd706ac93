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

    /// <summary>Beyond x = 20, tanh(softplus(x)) is 1 in float32; clamping keeps e²ˣ finite.</summary>
    const double Saturation = 20;

    public static Tensor Apply(Tensor x)
    {
        if (x.numel() < ExponentialFormFrom) return nn.functional.mish(x);
        using var scope = NewDisposeScope();
        var e = x.clamp_max(Saturation).exp();
        if (is_grad_enabled())
        {
            var n = e * (e + 2);
            return (x * n / (n + 2)).MoveToOuterDisposeScope();
        }
        // Without autograd the intermediates may be overwritten: half the allocations.
        var m = e.mul_(e + 2);
        return m.div_(m + 2).mul_(x).MoveToOuterDisposeScope();
    }
}
