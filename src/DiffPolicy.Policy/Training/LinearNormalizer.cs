namespace DiffPolicy.Policy.Training;

/// <summary>
/// DiffusionPolicy's <c>LinearNormalizer</c> in "limits" mode for one field: per dimension,
/// y = scale·x + offset maps [min, max] onto [−1, 1]; a dimension whose range is below
/// <see cref="RangeEpsilon"/> is only centred (scale 1, offset −min). Stored with the original's
/// state-dict names (<c>normalizer.params_dict.&lt;field&gt;.scale</c>, <c>.offset</c>,
/// <c>.input_stats.min|max|mean|std</c>).
/// </summary>
public sealed class LinearNormalizer
{
    public const double RangeEpsilon = 1e-4;

    public LinearNormalizer(float[] scale, float[] offset, Statistics stats)
    {
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(offset);
        ArgumentNullException.ThrowIfNull(stats);
        if (scale.Length == 0 || scale.Length != offset.Length || stats.Min.Length != scale.Length)
            throw new ArgumentException($"Normalizer arrays disagree: scale {scale.Length}, offset {offset.Length}, stats {stats.Min.Length}.");
        if (scale.Any(s => !float.IsFinite(s) || s == 0) || offset.Any(o => !float.IsFinite(o)))
            throw new ArgumentException("Normalizer scale and offset must be finite and the scale non-zero.");
        Scale = scale;
        Offset = offset;
        Stats = stats;
    }

    public float[] Scale { get; }
    public float[] Offset { get; }
    public Statistics Stats { get; }
    public int Dim => Scale.Length;

    /// <summary>Input statistics per dimension, kept for inspection as the original does.</summary>
    public sealed record Statistics(float[] Min, float[] Max, float[] Mean, float[] Std);

    /// <summary>Fits "limits" on rows of <paramref name="dim"/> values.</summary>
    public static LinearNormalizer FitLimits(ReadOnlySpan<float> rows, int dim)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        if (rows.Length == 0 || rows.Length % dim != 0)
            throw new ArgumentException($"Cannot fit a normalizer on {rows.Length} values in rows of {dim}.", nameof(rows));
        var n = rows.Length / dim;
        var min = new float[dim];
        var max = new float[dim];
        var sum = new double[dim];
        var sumSquares = new double[dim];
        Array.Fill(min, float.PositiveInfinity);
        Array.Fill(max, float.NegativeInfinity);
        for (var r = 0; r < n; r++)
        {
            for (var d = 0; d < dim; d++)
            {
                var v = rows[r * dim + d];
                if (!float.IsFinite(v)) throw new ArgumentException($"Non-finite value {v} at row {r}, dimension {d}.", nameof(rows));
                min[d] = Math.Min(min[d], v);
                max[d] = Math.Max(max[d], v);
                sum[d] += v;
                sumSquares[d] += (double)v * v;
            }
        }

        var scale = new float[dim];
        var offset = new float[dim];
        var mean = new float[dim];
        var std = new float[dim];
        for (var d = 0; d < dim; d++)
        {
            var range = (double)max[d] - min[d];
            if (range < RangeEpsilon)
            {
                scale[d] = 1;
                offset[d] = -min[d];
            }
            else
            {
                scale[d] = (float)(2 / range);
                offset[d] = (float)(-1 - 2 / range * min[d]);
            }
            mean[d] = (float)(sum[d] / n);
            // torch.std is the unbiased estimate.
            std[d] = n > 1 ? (float)Math.Sqrt(Math.Max(0, (sumSquares[d] - sum[d] * sum[d] / n) / (n - 1))) : 0;
        }
        return new LinearNormalizer(scale, offset, new Statistics(min, max, mean, std));
    }

    public void Normalize(Span<float> rows) => Apply(rows, forward: true);

    public void Unnormalize(Span<float> rows) => Apply(rows, forward: false);

    void Apply(Span<float> rows, bool forward)
    {
        if (rows.Length % Dim != 0)
            throw new ArgumentException($"{rows.Length} values are not rows of {Dim}.", nameof(rows));
        for (var i = 0; i < rows.Length; i++)
        {
            var d = i % Dim;
            rows[i] = forward ? rows[i] * Scale[d] + Offset[d] : (rows[i] - Offset[d]) / Scale[d];
        }
    }

    /// <summary>The original's state-dict entries for this field.</summary>
    public IEnumerable<(string Key, float[] Values)> StateDict(string field)
    {
        var p = $"normalizer.params_dict.{field}.";
        yield return (p + "scale", Scale);
        yield return (p + "offset", Offset);
        yield return (p + "input_stats.min", Stats.Min);
        yield return (p + "input_stats.max", Stats.Max);
        yield return (p + "input_stats.mean", Stats.Mean);
        yield return (p + "input_stats.std", Stats.Std);
    }

    public static LinearNormalizer FromStateDict(string field, Func<string, float[]> lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        var p = $"normalizer.params_dict.{field}.";
        return new LinearNormalizer(lookup(p + "scale"), lookup(p + "offset"), new Statistics(
            lookup(p + "input_stats.min"), lookup(p + "input_stats.max"), lookup(p + "input_stats.mean"), lookup(p + "input_stats.std")));
    }
}
