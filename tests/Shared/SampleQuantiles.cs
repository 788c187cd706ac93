using MathNet.Numerics.Statistics;

namespace DiffPolicy.Tests;

/// <summary>The tests' quantiles: R7 (numpy's default) by Math.NET, the implementation the CLI's Quantiles uses.</summary>
internal static class SampleQuantiles
{
    /// <summary>The <paramref name="percent"/>th percentile (0–100) of <paramref name="values"/>; NaN for no values.</summary>
    public static double R7(IEnumerable<double> values, double percent)
    {
        var list = values as IReadOnlyCollection<double> ?? values.ToList();
        return list.Count == 0 ? double.NaN : Statistics.QuantileCustom(list, percent / 100, QuantileDefinition.R7);
    }
}
