namespace DiffPolicy.Sim.PushT.Tests;

internal static class Percentiles
{
    /// <summary>numpy's default percentile: linear interpolation between order statistics.</summary>
    public static double Of(IReadOnlyList<double> values, double percent)
    {
        var sorted = values.Order().ToArray();
        var rank = percent / 100.0 * (sorted.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
