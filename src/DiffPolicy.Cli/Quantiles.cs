using MathNet.Numerics.Statistics;

namespace DiffPolicy.Cli;

/// <summary>
/// The one quantile rule of reports and benchmarks over lists of samples: R7 (Hyndman and Fan 1996), numpy's default
/// linear interpolation between order statistics, computed by Math.NET. Soaks, which run for hours, keep HdrHistogram's
/// percentiles of a histogram instead (see docs/architecture.md).
/// </summary>
public static class Quantiles
{
    /// <summary>The R7 quantile of <paramref name="values"/> at <paramref name="tau"/> in [0, 1]; 0 for no values.</summary>
    public static double R7(IEnumerable<double> values, double tau)
    {
        var list = values as IReadOnlyCollection<double> ?? values.ToList();
        return list.Count == 0 ? 0 : Statistics.QuantileCustom(list, tau, QuantileDefinition.R7);
    }
}
