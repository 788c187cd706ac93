using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// Conv1d computed as one matrix product over all rows and output positions (im2col):
/// cols (B·T_out, C·k) × weightᵀ (C·k, O). libtorch's CPU convolution pays a large fixed cost per
/// call on the short, wide inputs of this U-Net (≈4× slower at 256 channels, T = 4, one row); the
/// product has none and batches well, which is what ParaDiGMS windows need.
/// </summary>
internal static class GemmConv1d
{
    /// <param name="x">(B, C, T).</param>
    /// <returns>(B, O, T_out), the values of <paramref name="conv"/> with this stride and padding up to float rounding.</returns>
    public static Tensor Apply(Conv1d conv, Tensor x, long stride, long padding)
    {
        var weight = conv.weight!;
        long rows = x.shape[0], channels = x.shape[1], outChannels = weight.shape[0], kernel = weight.shape[2];
        var windows = (padding > 0 ? nn.functional.pad(x, [padding, padding]) : x).unfold(2, kernel, stride);   // (B, C, T_out, k)
        long length = windows.shape[2];
        var cols = windows.permute(0, 2, 1, 3).reshape(rows * length, channels * kernel);
        var y = addmm(conv.bias!, cols, weight.view(outChannels, channels * kernel).t(), 1, 1);
        return y.view(rows, length, outChannels).transpose(1, 2);
    }
}
