using HdrHistogram;

namespace DiffPolicy.Cli.Soak;

/// <summary>Percentiles of one soak measurement in milliseconds, from an HdrHistogram of microseconds.</summary>
public sealed record Percentiles(long Count, double Min, double P50, double P90, double P99, double P99_9, double Max)
{
    public static Percentiles Of(LongHistogram microseconds)
    {
        ArgumentNullException.ThrowIfNull(microseconds);
        if (microseconds.TotalCount == 0) return new Percentiles(0, 0, 0, 0, 0, 0, 0);
        static double Ms(long us) => us / 1000.0;
        return new Percentiles(
            microseconds.TotalCount, Ms(microseconds.GetValueAtPercentile(0)),
            Ms(microseconds.GetValueAtPercentile(50)), Ms(microseconds.GetValueAtPercentile(90)), Ms(microseconds.GetValueAtPercentile(99)),
            Ms(microseconds.GetValueAtPercentile(99.9)), Ms(microseconds.GetMaxValue()));
    }
}
