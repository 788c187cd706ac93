using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DiffPolicy.Policy.Network.Fast;

/// <summary>
/// Activations of R samples, time-major: sample r, position t, channel c at
/// Origin + r·SampleStride + (t + Pad)·Ld + c, for t in [−Pad, Length + Pad); the Pad rows at both
/// ends of every sample are zero, so a convolution window needs no bounds checks. A view of some
/// channels of a wider buffer (Ld &gt; Channels) is how the U-Net's skip concatenation costs nothing.
/// </summary>
internal readonly unsafe struct Activations(float* origin, int length, int channels, int ld, int pad, long sampleStride)
{
    public float* Origin { get; } = origin;
    public int Length { get; } = length;
    public int Channels { get; } = channels;
    public int Ld { get; } = ld;
    public int Pad { get; } = pad;
    public long SampleStride { get; } = sampleStride;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Row(int sample, int t) => Origin + sample * SampleStride + (long)(t + Pad) * Ld;

    /// <summary>Channels [offset, offset + channels) of this view.</summary>
    public Activations Slice(int offset, int channels) => new(Origin + offset, Length, channels, Ld, Pad, SampleStride);
}

/// <summary>
/// Y = A·B + bias with B packed (<see cref="PackedMatrix"/>), where row (r, t) of A is a convolution
/// window: <c>taps</c> runs of C channels, run j starting at input position t·stride − padding + j.
/// A is read in place (no im2col); the kernels keep an 8 × 32 or 4 × 32 block of Y in registers.
/// </summary>
internal static unsafe class Gemm
{
    const int Nr = PackedMatrix.Width;

    /// <summary>
    /// Whether the AVX-512 kernels and vector loops run (where the CPU accelerates them); tests turn it off to check the
    /// portable paths on this machine. Both give the same function; only the last bits of rounding may differ.
    /// </summary>
    internal static bool UseVector512 { get; set; } = Vector512.IsHardwareAccelerated;

    /// <summary>
    /// Y(r, t) ← bias + Σ_j Σ_c B[j·C + c, ·] · X(r, t·stride − padding + j, c) for t &lt; outputLength, r &lt; samples.
    /// </summary>
    /// <param name="outputRowStep">Output position t is written at Y's row t·outputRowStep + outputRowOffset (transposed convolution's interleave).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Convolve(Activations x, PackedMatrix b, int taps, int stride, int padding, Activations y, int samples,
        int outputLength, int outputRowStep = 1, int outputRowOffset = 0)
    {
        if (b.K != taps * x.Channels || b.N != y.Channels)
            throw new ArgumentException($"weights ({b.K} × {b.N}) do not fit {taps} taps × {x.Channels} → {y.Channels} channels.");
        var rows = samples * outputLength;
        var a = stackalloc long[8];
        var c = stackalloc long[8];
        var tile = stackalloc float[8 * Nr];
        for (var p = 0; p < b.Panels; p++)
        {
            var panel = b.Panel(p);
            var bias = b.Bias(p);
            var columns = Math.Min(Nr, b.N - p * Nr);
            for (var m0 = 0; m0 < rows; m0 += 8)
            {
                var block = Math.Min(8, rows - m0);
                for (var i = 0; i < 8; i++)
                {
                    var m = m0 + Math.Min(i, block - 1);   // rows past the end repeat the last one and are not stored
                    int r = m / outputLength, t = m % outputLength;
                    a[i] = (long)x.Row(r, t * stride - padding);
                    c[i] = (long)(y.Row(r, t * outputRowStep + outputRowOffset) + p * Nr);
                }
                if (UseVector512)
                {
                    if (block > 4) Kernel8(a, c, block, panel, bias, taps, x.Ld, x.Channels, columns, tile);
                    else Kernel4(a, c, block, panel, bias, taps, x.Ld, x.Channels, columns, tile);
                }
                else
                {
                    KernelPortable(a, c, block, panel, bias, taps, x.Ld, x.Channels, columns);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel8(long* rows, long* outputs, int valid, float* panel, float* bias, int taps, int ld, int channels, int columns, float* tile)
    {
        var b0 = Vector512.Load(bias);
        var b1 = Vector512.Load(bias + 16);
        Vector512<float> c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
        Vector512<float> c40 = b0, c41 = b1, c50 = b0, c51 = b1, c60 = b0, c61 = b1, c70 = b0, c71 = b1;
        var w = panel;
        for (var j = 0; j < taps; j++)
        {
            var offset = (long)j * ld;
            float* a0 = (float*)rows[0] + offset, a1 = (float*)rows[1] + offset, a2 = (float*)rows[2] + offset, a3 = (float*)rows[3] + offset;
            float* a4 = (float*)rows[4] + offset, a5 = (float*)rows[5] + offset, a6 = (float*)rows[6] + offset, a7 = (float*)rows[7] + offset;
            for (var k = 0; k < channels; k++, w += Nr)
            {
                var w0 = Vector512.Load(w);
                var w1 = Vector512.Load(w + 16);
                var v = Vector512.Create(a0[k]);
                c00 = Vector512.FusedMultiplyAdd(v, w0, c00); c01 = Vector512.FusedMultiplyAdd(v, w1, c01);
                v = Vector512.Create(a1[k]);
                c10 = Vector512.FusedMultiplyAdd(v, w0, c10); c11 = Vector512.FusedMultiplyAdd(v, w1, c11);
                v = Vector512.Create(a2[k]);
                c20 = Vector512.FusedMultiplyAdd(v, w0, c20); c21 = Vector512.FusedMultiplyAdd(v, w1, c21);
                v = Vector512.Create(a3[k]);
                c30 = Vector512.FusedMultiplyAdd(v, w0, c30); c31 = Vector512.FusedMultiplyAdd(v, w1, c31);
                v = Vector512.Create(a4[k]);
                c40 = Vector512.FusedMultiplyAdd(v, w0, c40); c41 = Vector512.FusedMultiplyAdd(v, w1, c41);
                v = Vector512.Create(a5[k]);
                c50 = Vector512.FusedMultiplyAdd(v, w0, c50); c51 = Vector512.FusedMultiplyAdd(v, w1, c51);
                v = Vector512.Create(a6[k]);
                c60 = Vector512.FusedMultiplyAdd(v, w0, c60); c61 = Vector512.FusedMultiplyAdd(v, w1, c61);
                v = Vector512.Create(a7[k]);
                c70 = Vector512.FusedMultiplyAdd(v, w0, c70); c71 = Vector512.FusedMultiplyAdd(v, w1, c71);
            }
        }
        // Through a stack tile: a call here would make the JIT spill the accumulators inside the loop.
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        c60.Store(tile + 192); c61.Store(tile + 208); c70.Store(tile + 224); c71.Store(tile + 240);
        CopyTile(tile, outputs, valid, columns);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel4(long* rows, long* outputs, int valid, float* panel, float* bias, int taps, int ld, int channels, int columns, float* tile)
    {
        var b0 = Vector512.Load(bias);
        var b1 = Vector512.Load(bias + 16);
        Vector512<float> c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
        var w = panel;
        for (var j = 0; j < taps; j++)
        {
            var offset = (long)j * ld;
            float* a0 = (float*)rows[0] + offset, a1 = (float*)rows[1] + offset, a2 = (float*)rows[2] + offset, a3 = (float*)rows[3] + offset;
            for (var k = 0; k < channels; k++, w += Nr)
            {
                var w0 = Vector512.Load(w);
                var w1 = Vector512.Load(w + 16);
                var v = Vector512.Create(a0[k]);
                c00 = Vector512.FusedMultiplyAdd(v, w0, c00); c01 = Vector512.FusedMultiplyAdd(v, w1, c01);
                v = Vector512.Create(a1[k]);
                c10 = Vector512.FusedMultiplyAdd(v, w0, c10); c11 = Vector512.FusedMultiplyAdd(v, w1, c11);
                v = Vector512.Create(a2[k]);
                c20 = Vector512.FusedMultiplyAdd(v, w0, c20); c21 = Vector512.FusedMultiplyAdd(v, w1, c21);
                v = Vector512.Create(a3[k]);
                c30 = Vector512.FusedMultiplyAdd(v, w0, c30); c31 = Vector512.FusedMultiplyAdd(v, w1, c31);
            }
        }
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        CopyTile(tile, outputs, valid, columns);
    }

    /// <summary>Rows [0, valid) of a tile of 32-float rows to their outputs, the first <paramref name="columns"/> of each.</summary>
    static void CopyTile(float* tile, long* outputs, int valid, int columns)
    {
        for (var i = 0; i < valid; i++)
            new ReadOnlySpan<float>(tile + i * Nr, columns).CopyTo(new Span<float>((float*)outputs[i], columns));
    }

    /// <summary>Any CPU: one row at a time, the 32 columns as 4 × Vector256 (emulated where not accelerated).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void KernelPortable(long* rows, long* outputs, int valid, float* panel, float* bias, int taps, int ld, int channels, int columns)
    {
        var tile = stackalloc float[Nr];
        for (var i = 0; i < valid; i++)
        {
            var c0 = Vector256.Load(bias);
            var c1 = Vector256.Load(bias + 8);
            var c2 = Vector256.Load(bias + 16);
            var c3 = Vector256.Load(bias + 24);
            var w = panel;
            for (var j = 0; j < taps; j++)
            {
                var a = (float*)rows[i] + (long)j * ld;
                for (var k = 0; k < channels; k++, w += Nr)
                {
                    var v = Vector256.Create(a[k]);
                    c0 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w), c0);
                    c1 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w + 8), c1);
                    c2 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w + 16), c2);
                    c3 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w + 24), c3);
                }
            }
            c0.Store(tile);
            c1.Store(tile + 8);
            c2.Store(tile + 16);
            c3.Store(tile + 24);
            var y = (float*)outputs[i];
            for (var j = 0; j < columns; j++) y[j] = tile[j];
        }
    }
}
