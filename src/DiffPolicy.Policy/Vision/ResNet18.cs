using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Vision;

/// <summary>
/// torchvision's <c>resnet18</c> as diffusion_policy's <c>get_resnet</c> + <c>MultiImageObsEncoder</c> leave it: <c>fc</c> =
/// identity, and with <c>use_group_norm</c> every BatchNorm2d replaced by GroupNorm(C/16 groups, C channels); otherwise
/// torchvision's BatchNorm2d (running statistics at inference). Input (N, 3, H, W), output (N, 512) after the global
/// average pool. Module names are torchvision's state-dict keys.
/// </summary>
public sealed class ResNet18 : nn.Module<Tensor, Tensor>
{
    public const int FeatureDim = 512;

#pragma warning disable IDE1006 // field names are the PyTorch state-dict keys
    readonly Conv2d conv1;
    readonly nn.Module<Tensor, Tensor> bn1;
    readonly Sequential layer1, layer2, layer3, layer4;
#pragma warning restore IDE1006

    /// <param name="groupNorm">GroupNorm (C/16 groups) in place of every BatchNorm2d.</param>
    public ResNet18(bool groupNorm = true) : base(nameof(ResNet18))
    {
        GroupNorm = groupNorm;
        conv1 = nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = Norm(64, groupNorm);
        layer1 = nn.Sequential(new BasicBlock(64, 64, 1, groupNorm), new BasicBlock(64, 64, 1, groupNorm));
        layer2 = nn.Sequential(new BasicBlock(64, 128, 2, groupNorm), new BasicBlock(128, 128, 1, groupNorm));
        layer3 = nn.Sequential(new BasicBlock(128, 256, 2, groupNorm), new BasicBlock(256, 256, 1, groupNorm));
        layer4 = nn.Sequential(new BasicBlock(256, 512, 2, groupNorm), new BasicBlock(512, 512, 1, groupNorm));
        RegisterComponents();
    }

    public bool GroupNorm { get; }

    /// <summary>
    /// GroupNorm with C/16 groups, or BatchNorm2d (ε 1e-5, momentum 0.1, as torchvision); γ = 1 and β = 0 as PyTorch
    /// initialises them (TorchSharp 0.107 leaves GroupNorm's unset).
    /// </summary>
    internal static nn.Module<Tensor, Tensor> Norm(int channels, bool groupNorm)
    {
        if (!groupNorm) return nn.BatchNorm2d(channels);
        var norm = nn.GroupNorm(channels / 16, channels);
        nn.init.ones_(norm.weight!);
        nn.init.zeros_(norm.bias!);
        return norm;
    }

    /// <param name="x">(N, 3, H, W)</param>
    /// <returns>(N, 512)</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.relu(bn1.call(conv1.call(x)));
        h = nn.functional.max_pool2d(h, 3, 2, 1);
        h = layer4.call(layer3.call(layer2.call(layer1.call(h))));
        return h.mean([2, 3]).MoveToOuterDisposeScope();
    }
}

/// <summary>torchvision's BasicBlock (GroupNorm or BatchNorm): conv3×3 → norm → relu → conv3×3 → norm, + identity or 1×1 downsample, relu.</summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // field names are the PyTorch state-dict keys
    readonly Conv2d conv1, conv2;
    readonly nn.Module<Tensor, Tensor> bn1, bn2;
    readonly Sequential? downsample;
#pragma warning restore IDE1006

    public BasicBlock(int inChannels, int outChannels, int stride, bool groupNorm) : base(nameof(BasicBlock))
    {
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        bn1 = ResNet18.Norm(outChannels, groupNorm);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, stride: 1, padding: 1, bias: false);
        bn2 = ResNet18.Norm(outChannels, groupNorm);
        if (stride != 1 || inChannels != outChannels)
            downsample = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), ResNet18.Norm(outChannels, groupNorm));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = bn2.call(conv2.call(nn.functional.relu(bn1.call(conv1.call(x)))));
        var identity = downsample is null ? x : downsample.call(x);
        return nn.functional.relu(h.Plus(identity)).MoveToOuterDisposeScope();
    }
}
