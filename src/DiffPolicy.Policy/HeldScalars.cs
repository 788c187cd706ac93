using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy;

/// <summary>
/// Scalars that live as long as the process, for the tensor arithmetic of inference. TorchSharp 0.107 hands libtorch
/// a <see cref="Scalar"/>'s native handle without keeping the Scalar alive, so a Scalar made for one call (an implicit
/// conversion such as <c>t.clamp_(-1, 1)</c> or <c>addcmul(…, 1)</c>, or the alpha of 1 that TorchSharp's own
/// <c>Tensor + Tensor</c> and <c>add_(Tensor)</c> make) can be finalized, its native value freed, before the kernel
/// reads it. Under load, when a thread is preempted inside the call while the GC runs, the kernel then throws from
/// <c>c10::Scalar::toFloat</c> ("Expected false to be true") or computes with what the freed memory holds. A static
/// Scalar is never finalized, and kernels only read it, so every thread (the ParaDiGMS workers) shares these. Hence
/// <see cref="Plus"/> for <c>+</c> between tensors in inference code.
/// </summary>
internal static class HeldScalars
{
    public static readonly Scalar Zero = 0.ToScalar();

    public static readonly Scalar One = 1.ToScalar();

    public static readonly Scalar MinusOne = (-1).ToScalar();

    public static readonly Scalar Two = 2.ToScalar();

    /// <summary><paramref name="a"/> + <paramref name="b"/> (broadcast): <c>a + b</c> with a held alpha.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary><paramref name="a"/> += <paramref name="b"/>: <c>a.add_(b)</c> with a held alpha.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, One);
}
