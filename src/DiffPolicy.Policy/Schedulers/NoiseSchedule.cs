using DiffPolicy.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Schedulers;

/// <summary>
/// The forward (noising) process of diffusers' DDPMScheduler with <c>squaredcos_cap_v2</c>, as
/// DiffusionPolicy configures it: ᾱ(s) = cos²((s + 0.008)/1.008 · π/2),
/// β_i = min(1 − ᾱ((i+1)/N)/ᾱ(i/N), 0.999), ᾱ_i = Π_{j≤i} (1 − β_j).
/// </summary>
/// <remarks>
/// Like diffusers, β is computed in double and stored as float32, and the cumulative product is
/// taken in float32; <see cref="AlphasCumprod"/> holds those float32 values.
/// </remarks>
public sealed class NoiseSchedule : IDisposable
{
    readonly Tensor sqrtAlphasCumprod;
    readonly Tensor sqrtOneMinusAlphasCumprod;

    public int TrainTimesteps { get; }
    public IReadOnlyList<double> Betas { get; }

    /// <summary>ᾱ_t for t = 0 … N−1.</summary>
    public IReadOnlyList<double> AlphasCumprod { get; }

    public NoiseSchedule(int trainTimesteps = 100)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trainTimesteps, 2);
        TrainTimesteps = trainTimesteps;
        static double AlphaBar(double s) => Math.Pow(Math.Cos((s + 0.008) / 1.008 * Math.PI / 2), 2);
        var betas = new double[trainTimesteps];
        var alphasCumprod = new double[trainTimesteps];
        var product = 1f;
        for (var i = 0; i < trainTimesteps; i++)
        {
            var beta = (float)Math.Min(1 - AlphaBar((i + 1.0) / trainTimesteps) / AlphaBar((double)i / trainTimesteps), 0.999);
            betas[i] = beta;
            product *= 1f - beta;
            alphasCumprod[i] = product;
        }
        Betas = betas;
        AlphasCumprod = alphasCumprod;
        sqrtAlphasCumprod = tensor(alphasCumprod.Select(a => (float)Math.Sqrt(a)).ToArray()).DetachFromDisposeScope();
        sqrtOneMinusAlphasCumprod = tensor(alphasCumprod.Select(a => (float)Math.Sqrt(1 - a)).ToArray()).DetachFromDisposeScope();
    }

    /// <summary>x_t = sqrt(ᾱ_t)·x_0 + sqrt(1 − ᾱ_t)·ε, per sample (diffusers' <c>add_noise</c>).</summary>
    /// <param name="original">x_0, (B, …).</param>
    /// <param name="noise">ε, same shape.</param>
    /// <param name="timesteps">(B,) integer timesteps in [0, N).</param>
    public Tensor AddNoise(Tensor original, Tensor noise, Tensor timesteps)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(noise);
        ArgumentNullException.ThrowIfNull(timesteps);
        if (!original.shape.SequenceEqual(noise.shape))
            throw new ArgumentException($"noise {Shapes.Format(noise.shape)} must have the shape of the sample {Shapes.Format(original.shape)}.", nameof(noise));
        if (timesteps.dim() != 1 || timesteps.shape[0] != original.shape[0])
            throw new ArgumentException($"timesteps must be ({original.shape[0]},), got {Shapes.Format(timesteps.shape)}.", nameof(timesteps));
        using var scope = NewDisposeScope();
        var index = timesteps.to(int64).cpu();
        if (index.numel() > 0 && (index.min().item<long>() < 0 || index.max().item<long>() >= TrainTimesteps))
            throw new ArgumentOutOfRangeException(nameof(timesteps), $"timesteps must lie in [0, {TrainTimesteps}).");
        long[] shape = [original.shape[0], .. Enumerable.Repeat(1L, (int)original.dim() - 1)];
        var a = sqrtAlphasCumprod.index_select(0, index).view(shape).to(original.dtype, original.device);
        var s = sqrtOneMinusAlphasCumprod.index_select(0, index).view(shape).to(original.dtype, original.device);
        return (a * original + s * noise).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        sqrtAlphasCumprod.Dispose();
        sqrtOneMinusAlphasCumprod.Dispose();
    }
}
