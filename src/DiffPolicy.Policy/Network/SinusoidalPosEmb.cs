using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// Diffusion-step embedding: f_i = exp(−i·ln(10000)/(half − 1)), emb = [sin(t·f), cos(t·f)].
/// </summary>
public sealed class SinusoidalPosEmb : nn.Module<Tensor, Tensor>
{
    readonly int dim;

    public SinusoidalPosEmb(int dim) : base(nameof(SinusoidalPosEmb)) => this.dim = dim;

    /// <param name="timestep">(B,) diffusion steps.</param>
    /// <returns>(B, dim).</returns>
    public override Tensor forward(Tensor timestep)
    {
        using var scope = NewDisposeScope();
        var half = dim / 2;
        var frequencies = exp(arange(half, float32, timestep.device) * (-Math.Log(10000) / (half - 1)));
        var angles = timestep.to(float32).unsqueeze(1) * frequencies.unsqueeze(0);
        return cat([angles.sin(), angles.cos()], -1).MoveToOuterDisposeScope();
    }
}
