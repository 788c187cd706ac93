using DiffPolicy.Policy.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// The U-Net's residual blocks, downsampling and FiLM run their convolutions as matrix products;
/// libtorch's own conv1d (the operation PyTorch's nn.Conv1d runs) is the reference.
/// </summary>
public class GemmConvolutionTests
{
    [Theory]
    [InlineData(3, 64, 16, 5, 1, 2)]   // Conv1dBlock, same length
    [InlineData(2, 256, 4, 5, 1, 2)]
    [InlineData(4, 96, 8, 1, 1, 0)]    // residual 1×1
    [InlineData(2, 32, 16, 3, 2, 1)]   // Downsample1d
    public void Matches_libtorch_conv1d(int batch, int channels, int length, int kernel, int stride, int padding)
    {
        using var scope = NewDisposeScope();
        var conv = nn.Conv1d(channels, channels / 2, kernel, stride: stride, padding: padding);
        var x = randn(batch, channels, length);
        var expected = conv.call(x);
        var actual = GemmConv1d.Apply(conv, x, stride, padding);
        Assert.Equal(expected.shape, actual.shape);
        Assert.InRange((expected - actual).abs().max().item<float>(), 0, 1e-5);
    }
}
