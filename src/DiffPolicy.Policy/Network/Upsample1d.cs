using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// Doubles the length: ConvTranspose1d(dim, dim, 4, stride 2, padding 1), computed as one matrix
/// product of every input position with all four taps, then an overlap-add: output 2m receives
/// tap 1 of input m and tap 3 of input m−1, output 2m+1 tap 2 of input m and tap 0 of input m+1.
/// libtorch's transposed convolution is slow at these shapes on a CPU (docs/sampling.md, Performance).
/// </summary>
public sealed class Upsample1d : nn.Module<Tensor, Tensor>
{
    readonly ConvTranspose1d conv;

    public Upsample1d(int dim) : base(nameof(Upsample1d))
    {
        conv = nn.ConvTranspose1d(dim, dim, 4, stride: 2, padding: 1);
        RegisterComponents();
    }

    /// <param name="x">(B, C, T).</param>
    /// <returns>(B, C, 2T).</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var weight = conv.weight!;                                     // (C_in, C_out, 4)
        long rows = x.shape[0], channels = x.shape[1], length = x.shape[2], outChannels = weight.shape[1];
        var taps = mm(x.transpose(1, 2).reshape(rows * length, channels), weight.reshape(channels, outChannels * 4))
            .view(rows, length, outChannels, 4);
        var padded = nn.functional.pad(taps, [0, 0, 0, 0, 1, 1]);     // inputs −1 … T, zero at both ends
        var current = padded[.., 1..(int)(length + 1)];
        var even = current[.., .., .., 1].Plus(padded[.., ..(int)length, .., 3]);
        var odd = current[.., .., .., 2].Plus(padded[.., 2.., .., 0]);
        var y = stack([even, odd], -1).permute(0, 2, 1, 3).reshape(rows, outChannels, 2 * length);
        return y.Plus(conv.bias!.view(1, -1, 1)).MoveToOuterDisposeScope();
    }
}
