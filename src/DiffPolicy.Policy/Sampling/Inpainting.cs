using DiffPolicy.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Sampling;

/// <summary>
/// Known actions a sampled trajectory is steered to agree with, per sample and trajectory position: training-free
/// inpainting by replacement. Every latent of the reverse process, x_T included, is blended position by position
/// towards the known actions noised to that latent's level with the chunk's own x_T as the noise,
/// x_j ← (1 − w)·x_j + w·(√ᾱ_j·a + √(1 − ᾱ_j)·x_T), ᾱ = 1 for the final x_0. Weight 1 fixes a position (the final
/// trajectory equals a there); weight 0 leaves it free. Using x_T as the noise draws nothing extra, so a chunk
/// sampled with inpainting sees the same noise as one without, and the known part of every latent lies on one
/// smooth path from x_T to a.
/// </summary>
/// <remarks>
/// The blend is part of each step's function x_{j+1} = f_j(x_j), so ParaDiGMS keeps the sequential sampler's fixed
/// point: its drifts are f_j(x_j) − x_j, and with the buffer's known parts set at the start the fully weighted
/// positions are exact in every iteration.
/// </remarks>
public sealed class Inpainting : IDisposable
{
    /// <summary>Normalised known actions, (B, horizon, action_dim); only read where <see cref="Weights"/> &gt; 0.</summary>
    public Tensor Known { get; }

    /// <summary>Per sample and position, (B, horizon), in [0, 1].</summary>
    public Tensor Weights { get; }

    public Inpainting(Tensor known, Tensor weights)
    {
        ArgumentNullException.ThrowIfNull(known);
        ArgumentNullException.ThrowIfNull(weights);
        if (known.dim() != 3) throw new ArgumentException("Known actions must be (B, horizon, action_dim).", nameof(known));
        if (weights.dim() != 2 || weights.shape[0] != known.shape[0] || weights.shape[1] != known.shape[1])
            throw new ArgumentException($"Weights must be (B, horizon) = ({known.shape[0]}, {known.shape[1]}), got {Shapes.Format(weights.shape)}.", nameof(weights));
        using (var scope = NewDisposeScope())
        {
            if (!isfinite(known).all().item<bool>()) throw new ArgumentException("Known actions must be finite.", nameof(known));
            if (!(weights >= 0).logical_and(weights <= 1).all().item<bool>()) throw new ArgumentException("Weights must lie in [0, 1].", nameof(weights));
        }
        Known = known.to(float32).DetachFromDisposeScope();
        Weights = weights.to(float32).DetachFromDisposeScope();
    }

    /// <summary>
    /// The samples' inpaintings as one batch, free (weight 0) where a sample has none; null when none has any.
    /// </summary>
    internal static Inpainting? Concat(IReadOnlyList<Inpainting?> parts, int horizon, int actionDim, Device device)
    {
        if (parts.All(p => p is null)) return null;
        using var scope = NewDisposeScope();
        var known = cat(parts.Select(p => p?.Known.to(device) ?? zeros(1, horizon, actionDim, device: device)).ToArray());
        var weights = cat(parts.Select(p => p?.Weights.to(device) ?? zeros(1, horizon, device: device)).ToArray());
        return new Inpainting(known, weights);
    }

    public void Dispose()
    {
        Known.Dispose();
        Weights.Dispose();
    }
}
