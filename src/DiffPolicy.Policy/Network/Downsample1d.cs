using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>Halves the length: Conv1d(dim, dim, 3, stride 2, padding 1).</summary>
public sealed class Downsample1d : nn.Module<Tensor, Tensor>
{
    readonly Conv1d conv;

    public Downsample1d(int dim) : base(nameof(Downsample1d))
    {
        conv = nn.Conv1d(dim, dim, 3, stride: 2, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => GemmConv1d.Apply(conv, x, 2, 1);
}
