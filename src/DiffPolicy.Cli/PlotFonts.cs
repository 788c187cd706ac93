namespace DiffPolicy.Cli;

/// <summary>
/// Our SkiaSharp native library is the build without fontconfig (the simulator must run on bare
/// robot machines), so ScottPlot finds no system font by name and would draw no text. Plots load a
/// TrueType file directly instead.
/// </summary>
internal static class PlotFonts
{
    const string Family = "DejaVu Sans";

    static readonly string[] Candidates =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    ];

    static readonly Lazy<string?> Registered = new(() =>
    {
        var path = Array.Find(Candidates, File.Exists);
        if (path is null) return null;
        ScottPlot.Fonts.AddFontFile(Family, path);
        return Family;
    });

    /// <summary>Sets every text of <paramref name="plot"/> to a font loaded from a file, when one is installed.</summary>
    public static void Apply(ScottPlot.Plot plot)
    {
        ArgumentNullException.ThrowIfNull(plot);
        if (Registered.Value is { } family) plot.Font.Set(family);
    }
}
