using System.Globalization;
using System.Text.RegularExpressions;

namespace DiffPolicy.Cli.Benchmarks;

/// <summary>
/// The multiply-adds of one network row (one latent at one denoising step), counted from the state dict's
/// convolution weights: 2 · C_out · C_in · k per output position of every convolution of the U-Net (residual 1×1
/// convolutions included; a transposed convolution, 2 · numel per input position). The FiLM encoders are left out: they
/// run once per chunk for all rows (conditioning), not per network row; so are the GroupNorm, Mish and FiLM elementwise
/// operations (a few per value, ≈ 1 % of the products).
/// </summary>
internal static partial class NetworkArithmetic
{
    [GeneratedRegex(@"^(down_modules|up_modules)\.(\d+)\.(\d+)\.")]
    private static partial Regex Level();

    /// <param name="shapes">State-dict key → shape (ConditionalUnet1D's names).</param>
    /// <param name="horizon">T of the rows.</param>
    public static double FlopsPerRow(IReadOnlyDictionary<string, long[]> shapes, int horizon)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        var levels = shapes.Keys.Select(k => Level().Match(k)).Where(m => m.Success && m.Groups[1].Value == "down_modules")
            .Select(m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max() + 1;
        double flops = 0;
        foreach (var (key, shape) in shapes)
        {
            if (shape.Length != 3 || !key.EndsWith(".weight", StringComparison.Ordinal) || key.Contains("cond_encoder", StringComparison.Ordinal)) continue;
            double numel = shape[0] * shape[1] * shape[2];
            var match = Level().Match(key);
            double positions;
            if (key.StartsWith("final_conv", StringComparison.Ordinal))
            {
                positions = horizon;
            }
            else if (key.StartsWith("mid_modules", StringComparison.Ordinal))
            {
                positions = horizon >> (levels - 1);
            }
            else if (match.Success && match.Groups[1].Value == "down_modules")
            {
                var level = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
                var sampling = match.Groups[3].Value == "2";   // Downsample1d: stride 2, half the positions out
                positions = (horizon >> level) / (sampling ? 2.0 : 1.0);
            }
            else if (match.Success)
            {
                // up_modules.i runs at the length of down level (levels − 2 − i) + 1 and its Upsample1d doubles it; a
                // transposed convolution is 2 · numel per input position.
                var level = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
                positions = horizon >> (levels - 1 - level);
            }
            else
            {
                continue;
            }
            flops += 2 * numel * positions;
        }
        return flops;
    }
}
