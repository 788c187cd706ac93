using DiffPolicy.Policy.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// The U-Net runs its convolutions, transposed convolutions and Mish in its own formulation;
/// libtorch's conv1d, conv_transpose1d and mish (the operations PyTorch's modules run) are the reference.
/// </summary>
public class NetworkOperationsTests
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

        GemmConv1d.StoreTimeMajor(conv);
        Assert.Equal([kernel * channels, 1, channels], conv.weight!.stride());
        Assert.InRange((expected - GemmConv1d.Apply(conv, x, stride, padding)).abs().max().item<float>(), 0, 1e-5);
        Assert.InRange((expected - conv.call(x)).abs().max().item<float>(), 0, 1e-5);
    }

    [Theory]
    [InlineData(1, 128, 4)]
    [InlineData(5, 64, 8)]
    public void Upsample_matches_libtorch_conv_transpose1d(int batch, int channels, int length)
    {
        using var scope = NewDisposeScope();
        using var upsample = new Upsample1d(channels);
        var weight = upsample.get_parameter("conv.weight")!;
        var bias = upsample.get_parameter("conv.bias")!;
        var x = randn(batch, channels, length);
        var expected = nn.functional.conv_transpose1d(x, weight, bias, stride: 2, padding: 1);
        var actual = upsample.call(x);
        Assert.Equal([batch, channels, 2L * length], actual.shape);
        Assert.InRange((expected - actual).abs().max().item<float>(), 0, 1e-5);
    }

    [Fact]
    public void Mish_in_exponential_form_matches_libtorch_with_its_gradient_from_saturation_to_underflow()
    {
        using var scope = NewDisposeScope();
        var x = cat([linspace(-30, 30, 8001), tensor(new float[] { -1e4f, -100, 0, 20, 25, 100, 1e4f })]).requires_grad_();
        var reference = x.detach().clone().requires_grad_();
        var actual = Mish.Apply(x);
        var expected = nn.functional.mish(reference);
        Assert.InRange(((expected - actual).abs() / (expected.abs() + 1e-6)).max().item<float>(), 0, 1e-5);
        using (inference_mode())
            Assert.InRange(((expected - Mish.Apply(x.detach())).abs() / (expected.abs() + 1e-6)).max().item<float>(), 0, 1e-5);
        actual.sum().backward();
        expected.sum().backward();
        Assert.InRange((x.grad! - reference.grad!).abs().max().item<float>(), 0, 1e-5);
    }
}
