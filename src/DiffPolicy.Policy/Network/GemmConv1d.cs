using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// Conv1d computed as one matrix product over all rows and output positions (im2col):
/// cols (B·T_out, k·C) × weightᵀ (k·C, O). libtorch's CPU convolution pays a large fixed cost per
/// call on the short, wide inputs of this U-Net (docs/sampling.md, Performance); the product has none and
/// batches well, which is what ParaDiGMS windows need.
/// </summary>
/// <remarks>
/// The windows are gathered time-major, (B, T_out, k, C), because copying runs of C contiguous
/// channels is cheaper than gathering k-long runs from channel-major data. The weight keeps
/// PyTorch's shape (O, C, k) is stored (O, k, C) in memory for inference (<see cref="StoreTimeMajor"/>), so its
/// (O, k·C) matrix is a view; any other layout gives the same values through a copy.
/// </remarks>
internal static class GemmConv1d
{
    /// <summary>
    /// Replaces the weight of <paramref name="conv"/> by a parameter with the same values stored
    /// (O, k, C). Only for a network no optimiser holds: the old parameter object is dropped.
    /// </summary>
    public static void StoreTimeMajor(Conv1d conv)
    {
        var weight = conv.weight!;
        long outChannels = weight.shape[0], channels = weight.shape[1], kernel = weight.shape[2];
        // A tensor of its own, not a view, so that in-place updates (EMA) remain allowed.
        var stored = empty_strided(weight.shape, [kernel * channels, 1, channels], weight.dtype, weight.device);
        using (no_grad()) stored.copy_(weight);
        conv.weight = new Parameter(stored, weight.requires_grad);
        weight.Dispose();
    }

    /// <param name="x">(B, C, T), any strides.</param>
    /// <returns>(B, O, T_out), the values of <paramref name="conv"/> with this stride and padding up to float rounding.</returns>
    public static Tensor Apply(Conv1d conv, Tensor x, long stride, long padding)
    {
        var weight = conv.weight!;
        long rows = x.shape[0], channels = x.shape[1], outChannels = weight.shape[0], kernel = weight.shape[2];
        var timeMajor = x.transpose(1, 2);
        var windows = (padding > 0 ? nn.functional.pad(timeMajor, [0, 0, padding, padding]) : timeMajor)
            .unfold(1, kernel, stride).transpose(2, 3);                                 // (B, T_out, k, C)
        var length = windows.shape[1];
        var cols = windows.reshape(rows * length, kernel * channels);
        var y = addmm(conv.bias!, cols, weight.permute(0, 2, 1).reshape(outChannels, kernel * channels).t(), 1, 1);
        return y.view(rows, length, outChannels).transpose(1, 2);
    }
}
