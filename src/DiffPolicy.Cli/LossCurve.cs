using System.Globalization;
using DiffPolicy.Data;
using ScottPlot;

namespace DiffPolicy.Cli;

/// <summary>The training and validation loss of a run's log.csv as a PNG (log-scale y).</summary>
internal static class LossCurve
{
    public static void Plot(string logPath, string pngPath)
    {
        var rows = File.ReadAllLines(logPath).Skip(1).Select(l => l.Split(',')).ToList();
        if (rows.Count == 0) return;
        static double Parse(string s) => s.Length == 0 ? double.NaN : double.Parse(s, CultureInfo.InvariantCulture);
        var step = rows.Select(r => Parse(r[0])).ToArray();
        var loss = rows.Select(r => Math.Log10(Parse(r[1]))).ToArray();
        var validation = rows.Where(r => r[3].Length > 0).Select(r => (Parse(r[0]), Math.Log10(Parse(r[3])))).ToArray();

        var plot = new Plot();
        var train = plot.Add.ScatterLine(step, loss);
        train.LegendText = "train loss";
        train.MarkerSize = 0;
        if (validation.Length > 0)
        {
            var val = plot.Add.Scatter(validation.Select(v => v.Item1).ToArray(), validation.Select(v => v.Item2).ToArray());
            val.LegendText = "validation loss (EMA)";
        }
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = y => Math.Pow(10, y).ToString("G3", CultureInfo.InvariantCulture),
        };
        plot.XLabel("optimiser step");
        plot.YLabel("MSE (ε-prediction)");
        plot.ShowLegend();
        PlotFonts.Apply(plot);
        AtomicFile.WriteAllBytes(pngPath, plot.GetImageBytes(900, 500, ImageFormat.Png));
    }
}
