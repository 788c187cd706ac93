using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// Two <see cref="Conv1dBlock"/>s with FiLM conditioning in between and a residual connection
/// (a 1×1 convolution when the channel count changes).
/// </summary>
public sealed class ConditionalResidualBlock1D : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the PyTorch state-dict keys
    readonly ModuleList<Conv1dBlock> blocks;
    readonly Sequential cond_encoder;
    readonly nn.Module<Tensor, Tensor> residual_conv;
#pragma warning restore IDE1006
    readonly int outChannels;
    readonly bool condPredictScale;

    public ConditionalResidualBlock1D(int inChannels, int outChannels, int condDim, int kernelSize, int nGroups, bool condPredictScale)
        : base(nameof(ConditionalResidualBlock1D))
    {
        this.outChannels = outChannels;
        this.condPredictScale = condPredictScale;
        blocks = nn.ModuleList(
            new Conv1dBlock(inChannels, outChannels, kernelSize, nGroups),
            new Conv1dBlock(outChannels, outChannels, kernelSize, nGroups));
        // The original's third element, Rearrange('batch t -> batch t 1'), has no parameters: done in Film.
        cond_encoder = nn.Sequential(nn.Mish(), nn.Linear(condDim, condPredictScale ? 2 * outChannels : outChannels));
        residual_conv = inChannels != outChannels ? nn.Conv1d(inChannels, outChannels, 1) : nn.Identity();
        RegisterComponents();
    }

    /// <summary>FiLM parameters from the conditioning vector (B, cond_dim).</summary>
    public Film Film(Tensor cond)
    {
        var embed = cond_encoder.call(cond);
        if (!condPredictScale) return new Film(null, embed.unsqueeze(-1));
        embed = embed.reshape(embed.shape[0], 2, outChannels, 1);
        return new Film(embed[.., 0], embed[.., 1]);
    }

    /// <param name="x">(B, in, T).</param>
    /// <param name="film">This block's FiLM parameters for the B rows.</param>
    /// <returns>(B, out, T).</returns>
    public Tensor Forward(Tensor x, Film film)
    {
        using var scope = NewDisposeScope();
        var h = blocks[0].call(x);
        // Scalars held for the call (HeldScalars): these run on every ParaDiGMS worker.
        h = film.Scale is { } scale ? addcmul(film.Bias, scale, h, HeldScalars.One) : h.Plus(film.Bias);
        h = blocks[1].call(h);
        return h.Plus(residual_conv is Conv1d conv ? GemmConv1d.Apply(conv, x, 1, 0) : x).MoveToOuterDisposeScope();
    }

    /// <param name="x">(B, in, T).</param>
    /// <param name="cond">(B, cond_dim).</param>
    public override Tensor forward(Tensor x, Tensor cond)
    {
        using var scope = NewDisposeScope();
        return Forward(x, Film(cond)).MoveToOuterDisposeScope();
    }
}
