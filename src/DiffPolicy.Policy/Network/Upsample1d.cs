using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>Doubles the length: ConvTranspose1d(dim, dim, 4, stride 2, padding 1).</summary>
public sealed class Upsample1d : nn.Module<Tensor, Tensor>
{
    readonly ConvTranspose1d conv;

    public Upsample1d(int dim) : base(nameof(Upsample1d))
    {
        conv = nn.ConvTranspose1d(dim, dim, 4, stride: 2, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => conv.call(x);
}
