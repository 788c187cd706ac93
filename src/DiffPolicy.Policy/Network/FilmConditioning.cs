using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// FiLM parameters of one residual block for a set of rows: h ← scale·h + bias, each (rows, C, 1);
/// <see cref="Scale"/> is null when the network predicts bias only.
/// </summary>
public readonly record struct Film(Tensor? Scale, Tensor Bias)
{
    public Film Narrow(long start, long length) => new(Scale?.narrow(0, start, length), Bias.narrow(0, start, length));
}

/// <summary>
/// The conditioning of every residual block of a <see cref="ConditionalUnet1D"/> for a set of rows
/// (diffusion step + global_cond per row), in the network's block order. It depends only on the
/// step and the observation, so a sampler computes it once per chunk for all steps and slices it.
/// </summary>
public sealed class FilmConditioning(IReadOnlyList<Film> blocks, long rows) : INoiseConditioning
{
    public IReadOnlyList<Film> Blocks { get; } = blocks;
    public long Rows { get; } = rows;

    /// <summary>Rows start … start+length−1, as views.</summary>
    public FilmConditioning Narrow(long start, long length)
    {
        if (start < 0 || length < 1 || start + length > Rows)
            throw new ArgumentOutOfRangeException(nameof(length), $"rows [{start}, {start + length}) outside [0, {Rows}).");
        return new FilmConditioning(Blocks.Select(b => b.Narrow(start, length)).ToList(), length);
    }

    /// <summary>The rows of <paramref name="parts"/> one after another (new tensors; a single part is returned as is).</summary>
    public static FilmConditioning Concat(IReadOnlyList<FilmConditioning> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new ArgumentException("nothing to concatenate", nameof(parts));
        if (parts.Count == 1) return parts[0];
        var blocks = new List<Film>(parts[0].Blocks.Count);
        for (var b = 0; b < parts[0].Blocks.Count; b++)
        {
            var scale = parts[0].Blocks[b].Scale is null ? null : cat(parts.Select(p => p.Blocks[b].Scale!).ToArray());
            blocks.Add(new Film(scale, cat(parts.Select(p => p.Blocks[b].Bias).ToArray())));
        }
        return new FilmConditioning(blocks, parts.Sum(p => p.Rows));
    }

    /// <summary>Nothing to free: the tensors belong to the dispose scope they were made in (unless <see cref="Detach"/>ed).</summary>
    public void Dispose()
    {
    }

    INoiseConditioning INoiseConditioning.Narrow(long start, long length) => Narrow(start, length);

    /// <summary>Takes the block tensors out of the current dispose scope (for conditioning kept across calls).</summary>
    internal FilmConditioning Detach()
    {
        foreach (var block in Blocks)
        {
            block.Scale?.DetachFromDisposeScope();
            block.Bias.DetachFromDisposeScope();
        }
        return this;
    }

    /// <summary>Disposes the block tensors (of a conditioning taken out of its scope with <see cref="Detach"/>).</summary>
    internal void DisposeTensors()
    {
        foreach (var block in Blocks)
        {
            block.Scale?.Dispose();
            block.Bias.Dispose();
        }
    }
}
