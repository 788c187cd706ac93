using DiffPolicy.Data;
using ScottPlot;

namespace DiffPolicy.Cli.Soak;

/// <summary>A soak's chunk latency (left axis) and process RSS (right axis) over time, as a PNG.</summary>
internal static class SoakPlot
{
    public static void Save(SoakReport report, string pngPath)
    {
        var plot = new Plot();
        if (report.ChunkSamples.Count > 0)
        {
            var latency = plot.Add.Scatter(report.ChunkSamples.Select(c => c.Seconds).ToArray(), report.ChunkSamples.Select(c => c.LatencyMs).ToArray());
            latency.LegendText = "chunk latency (robot round trip, ms)";
            latency.LineWidth = 0;
            latency.MarkerSize = 3;
        }
        var rss = plot.Add.ScatterLine(report.Samples.Select(s => s.Seconds).ToArray(), report.Samples.Select(s => s.RssMb).ToArray());
        rss.LegendText = "RSS (MB)";
        rss.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "RSS (MB)";
        plot.XLabel("seconds");
        plot.YLabel("chunk latency (ms)");
        plot.Title($"soak: {report.Chunks} chunks, {report.DeadlineMisses} deadline misses, p99 {report.ChunkLatencyMs.P99:F0} ms");
        plot.ShowLegend();
        PlotFonts.Apply(plot);
        AtomicFile.WriteAllBytes(pngPath, plot.GetImageBytes(1000, 500, ImageFormat.Png));
    }
}
