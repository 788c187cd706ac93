using System.Globalization;
using DiffPolicy.Data;
using DiffPolicy.Policy.Training;
using ScottPlot;

namespace DiffPolicy.Cli;

/// <summary>The training and validation loss of a run's log.csv as a PNG (log-scale y).</summary>
internal static class LossCurve
{
    public static void Plot(string logPath, string pngPath)
    {
        var rows = TrainingLog.Read(logPath);
        if (rows.Count == 0) return;
        var step = rows.Select(r => (double)r.Step).ToArray();
        var loss = rows.Select(r => Math.Log10(r.Loss)).ToArray();
        var validation = rows.Where(r => r.ValLoss is not null).Select(r => ((double)r.Step, Math.Log10(r.ValLoss!.Value))).ToArray();

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
