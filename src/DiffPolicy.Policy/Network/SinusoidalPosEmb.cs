using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// Diffusion-step embedding: f_i = exp(−i·ln(10000)/(half − 1)), emb = [sin(t·f), cos(t·f)].
/// </summary>
public sealed class SinusoidalPosEmb : nn.Module<Tensor, Tensor>
{
    // Held as long as the module (HeldScalars: a Scalar made for one call can be freed while libtorch reads it).
    readonly Scalar half, exponentStep;

    public SinusoidalPosEmb(int dim) : base(nameof(SinusoidalPosEmb))
    {
        half = (dim / 2).ToScalar();
        exponentStep = (-Math.Log(10000) / (dim / 2 - 1)).ToScalar();
    }

    /// <param name="timestep">(B,) diffusion steps.</param>
    /// <returns>(B, dim).</returns>
    public override Tensor forward(Tensor timestep)
    {
        using var scope = NewDisposeScope();
        var frequencies = exp(arange(HeldScalars.Zero, half, HeldScalars.One, float32, timestep.device).mul(exponentStep));
        var angles = timestep.to(float32).unsqueeze(1) * frequencies.unsqueeze(0);
        return cat([angles.sin(), angles.cos()], -1).MoveToOuterDisposeScope();
    }
}
