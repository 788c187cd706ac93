using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// One U-Net level, the original's <c>nn.ModuleList([resnet, resnet2, resample])</c>: its children
/// are registered as "0", "1", "2" so the state-dict keys read <c>down_modules.0.1.blocks…</c>.
/// </summary>
public sealed class UnetLevel : nn.Module
{
    [ComponentName(Name = "0")]
    readonly ConditionalResidualBlock1D first;

    [ComponentName(Name = "1")]
    readonly ConditionalResidualBlock1D second;

    [ComponentName(Name = "2")]
    readonly nn.Module<Tensor, Tensor> resample;

    public UnetLevel(ConditionalResidualBlock1D first, ConditionalResidualBlock1D second, nn.Module<Tensor, Tensor> resample)
        : base(nameof(UnetLevel))
    {
        this.first = first;
        this.second = second;
        this.resample = resample;
        RegisterComponents();
    }

    /// <summary>The two residual blocks, in order.</summary>
    public IEnumerable<ConditionalResidualBlock1D> Blocks => [first, second];

    /// <summary>Both residual blocks, then the resampling (Downsample1d, Upsample1d or identity).</summary>
    /// <param name="skip">Receives the output of the residual blocks (the down path's skip connection).</param>
    public Tensor Forward(Tensor x, Film firstFilm, Film secondFilm, out Tensor skip)
    {
        skip = second.Forward(first.Forward(x, firstFilm), secondFilm);
        return resample.call(skip);
    }
}
