using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>Conv1d (same length) → GroupNorm → Mish, as <c>block.0/1/2</c>.</summary>
public sealed class Conv1dBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the PyTorch state-dict keys
    readonly Sequential block;
#pragma warning restore IDE1006

    // The same modules, typed; a tuple is not registered as a component, so the keys stay block.N.
    readonly (Conv1d Conv, GroupNorm Norm) layers;

    public Conv1dBlock(int inChannels, int outChannels, int kernelSize, int nGroups) : base(nameof(Conv1dBlock))
    {
        var conv = nn.Conv1d(inChannels, outChannels, kernelSize, padding: kernelSize / 2);
        var norm = nn.GroupNorm(nGroups, outChannels);
        // TorchSharp 0.107 leaves GroupNorm's affine parameters uninitialised; PyTorch starts at γ = 1, β = 0.
        nn.init.ones_(norm.weight!);
        nn.init.zeros_(norm.bias!);
        layers = (conv, norm);
        block = nn.Sequential(conv, norm, nn.Mish());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Mish.Apply(layers.Norm.call(GemmConv1d.Apply(layers.Conv, x, 1, layers.Conv.weight!.shape[2] / 2))).MoveToOuterDisposeScope();
    }
}
