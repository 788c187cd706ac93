using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DiffPolicy.Policy.Network.Fast;

/// <summary>The U-Net's non-linear parts, fused into one pass over each sample after its convolution.</summary>
internal static unsafe class Elementwise
{
    const float GroupNormEpsilon = 1e-5f;

    /// <summary>Beyond x = 20, tanh(softplus(x)) is 1 in float32; clamping keeps e²ˣ finite.</summary>
    const float MishSaturation = 20f;

    /// <summary>
    /// Y ← FiLM(Mish(GroupNorm(H))) per sample, or Y += Mish(GroupNorm(H)) with <paramref name="accumulate"/>
    /// (the residual block's sum). FiLM is h·scale + bias with the sample's row of <paramref name="film"/>:
    /// scale (C) then bias (C), or bias alone when <paramref name="filmScale"/> is false; null for none.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NormMish(Activations h, float* gamma, float* beta, int groups, float* film, long filmStride, bool filmScale,
        Activations y, int samples, bool accumulate)
    {
        int channels = h.Channels, length = h.Length, perGroup = channels / groups;
        var sum = stackalloc float[channels];
        var scale = stackalloc float[channels];
        var shift = stackalloc float[channels];
        var count = (double)perGroup * length;
        for (var r = 0; r < samples; r++)
        {
            // Two passes for the statistics (mean, then squared deviations), like GroupNorm's reference.
            ChannelSums(h, r, sum, null);
            for (var g = 0; g < groups; g++)
            {
                double total = 0;
                for (var c = g * perGroup; c < (g + 1) * perGroup; c++) total += sum[c];
                var mean = (float)(total / count);
                for (var c = g * perGroup; c < (g + 1) * perGroup; c++) shift[c] = mean;
            }
            ChannelSums(h, r, sum, shift);
            for (var g = 0; g < groups; g++)
            {
                double total = 0;
                for (var c = g * perGroup; c < (g + 1) * perGroup; c++) total += sum[c];
                var inverseStd = (float)(1 / Math.Sqrt(total / count + GroupNormEpsilon));
                for (var c = g * perGroup; c < (g + 1) * perGroup; c++)
                {
                    var a = gamma[c] * inverseStd;
                    scale[c] = a;
                    shift[c] = beta[c] - shift[c] * a;
                }
            }
            float* filmBias = null, filmMultiplier = null;
            if (film != null)
            {
                var row = film + r * filmStride;
                if (filmScale)
                {
                    filmMultiplier = row;
                    filmBias = row + channels;
                }
                else
                {
                    filmBias = row;
                }
            }
            for (var t = 0; t < length; t++)
            {
                float* source = h.Row(r, t), target = y.Row(r, t);
                var c = 0;
                if (Gemm.UseVector512)
                {
                    for (; c <= channels - 16; c += 16)
                    {
                        var v = Mish(Vector512.FusedMultiplyAdd(Vector512.Load(source + c), Vector512.Load(scale + c), Vector512.Load(shift + c)));
                        if (filmMultiplier != null) v = Vector512.FusedMultiplyAdd(v, Vector512.Load(filmMultiplier + c), Vector512.Load(filmBias + c));
                        else if (filmBias != null) v += Vector512.Load(filmBias + c);
                        if (accumulate) v += Vector512.Load(target + c);
                        v.Store(target + c);
                    }
                }
                for (; c < channels; c++)
                {
                    var v = Mish(MathF.FusedMultiplyAdd(source[c], scale[c], shift[c]));
                    if (filmMultiplier != null) v = MathF.FusedMultiplyAdd(v, filmMultiplier[c], filmBias[c]);
                    else if (filmBias != null) v += filmBias[c];
                    if (accumulate) v += target[c];
                    target[c] = v;
                }
            }
        }
    }

    /// <summary>sum[c] = Σ_t (H(r, t, c) − centre[c])², or Σ_t H(r, t, c) when centre is null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ChannelSums(Activations h, int r, float* sum, float* centre)
    {
        var channels = h.Channels;
        new Span<float>(sum, channels).Clear();
        for (var t = 0; t < h.Length; t++)
        {
            var row = h.Row(r, t);
            var c = 0;
            if (Gemm.UseVector512)
            {
                for (; c <= channels - 16; c += 16)
                {
                    var v = Vector512.Load(row + c);
                    if (centre != null)
                    {
                        v -= Vector512.Load(centre + c);
                        v *= v;
                    }
                    (Vector512.Load(sum + c) + v).Store(sum + c);
                }
            }
            for (; c < channels; c++)
            {
                var v = row[c];
                if (centre != null)
                {
                    v -= centre[c];
                    v *= v;
                }
                sum[c] += v;
            }
        }
    }

    /// <summary>x ← Mish(x) for <paramref name="count"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Mish(float* x, int count)
    {
        var i = 0;
        if (Gemm.UseVector512)
            for (; i <= count - 16; i += 16) Mish(Vector512.Load(x + i)).Store(x + i);
        for (; i < count; i++) x[i] = Mish(x[i]);
    }

    /// <summary>Mish(x) = x·tanh(softplus(x)) = x·n/(n + 2) with n = eˣ(eˣ + 2): one exponential.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Mish(Vector512<float> x)
    {
        var e = Vector512.Exp(Vector512.Min(x, Vector512.Create(MishSaturation)));
        var n = e * (e + Vector512.Create(2f));
        return x * n / (n + Vector512.Create(2f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Mish(float x)
    {
        var e = MathF.Exp(MathF.Min(x, MishSaturation));
        var n = e * (e + 2);
        return x * n / (n + 2);
    }
}
