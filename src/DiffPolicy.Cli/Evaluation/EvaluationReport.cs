using System.Text.Json;
using System.Text.Json.Serialization;
using DiffPolicy.Data;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>Chunk latency percentiles in milliseconds (R7 quantiles).</summary>
public sealed record LatencySummary(double P50, double P90, double P95, double P99, double Max)
{
    public static LatencySummary Of(IReadOnlyCollection<double> milliseconds) => milliseconds.Count == 0
        ? new LatencySummary(0, 0, 0, 0, 0)
        : new LatencySummary(Quantiles.R7(milliseconds, 0.50), Quantiles.R7(milliseconds, 0.90), Quantiles.R7(milliseconds, 0.95),
            Quantiles.R7(milliseconds, 0.99), milliseconds.Max());
}

/// <summary>The Wilson score interval of a binomial proportion (Wilson 1927; Newcombe 1998, method 3).</summary>
public static class WilsonInterval
{
    /// <summary>z of a two-sided 95 % interval.</summary>
    public const double Z95 = 1.959963984540054;

    /// <returns>[lower, upper] for <paramref name="successes"/> of <paramref name="trials"/>; [0, 1] for no trials.</returns>
    public static double[] Of(int successes, int trials, double z = Z95)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(successes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(successes, trials);
        if (trials == 0) return [0, 1];
        double n = trials, p = successes / n, z2 = z * z;
        var centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        var half = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return [Math.Max(0, centre - half), Math.Min(1, centre + half)];
    }
}

/// <summary>What <c>diffpolicy eval</c> prints and writes as JSON.</summary>
/// <param name="LatencySteps">Latency mode: d; real time: the frozen steps sent with a prior (null: estimated per request).</param>
/// <param name="SuccessCi95">Wilson 95 % interval of <paramref name="SuccessRate"/>.</param>
/// <param name="SeamJerkP95">p95 over all episodes of |a[t+1] − 2a[t] + a[t−1]| (px) where the three actions come from more than one chunk.</param>
/// <param name="IntraJerkP95">The same inside one chunk.</param>
/// <param name="HeldTicks">Steps held before an episode's first chunk was usable, all episodes.</param>
/// <param name="DeadlineMisses">Steps held after it.</param>
/// <param name="DeadlineMs">deadline_ms sent with every request (anytime chunks); null: none.</param>
/// <param name="Chunks">Chunks over all episodes.</param>
/// <param name="ChunksCutShort">Of those, chunks stopped at their deadline before every denoising step converged.</param>
/// <param name="Refused">Requests the server refused as overloaded: not one sampler iteration fitted before the deadline (the robot held and asked again).</param>
/// <param name="DenoisingSteps">S of the chunks' certificates; null when the policy sends none.</param>
/// <param name="ConvergedStepsMean">Converged steps per chunk (S for a converged chunk), mean over all chunks; null without certificates.</param>
/// <param name="ConvergedStepsMin">The fewest converged steps of any chunk.</param>
public sealed record EvaluationReport(
    string Checkpoint,
    string Sampler,
    string Transport,
    string Mode,
    int? LatencySteps,
    string Seam,
    int Episodes,
    double Score,
    double SuccessRate,
    double[] SuccessCi95,
    double SeamJerkP95,
    double IntraJerkP95,
    int HeldTicks,
    int DeadlineMisses,
    double? DeadlineMs,
    int Chunks,
    int ChunksCutShort,
    int Refused,
    int? DenoisingSteps,
    double? ConvergedStepsMean,
    int? ConvergedStepsMin,
    double SecondsPerAction,
    LatencySummary ChunkLatencyMs,
    double MeanIterations,
    double WallSeconds,
    string Machine,
    IReadOnlyList<EpisodeResult> PerEpisode)
{
    public static EvaluationReport From(string checkpoint, string sampler, string transport, Execution execution, IReadOnlyList<EpisodeRecord> records, double wallSeconds)
    {
        ArgumentNullException.ThrowIfNull(execution);
        ArgumentNullException.ThrowIfNull(records);
        var episodes = records.Select(r => r.Result).ToList();
        var actions = episodes.Sum(e => e.Steps);
        var chunks = episodes.Sum(e => e.Chunks);
        var successes = episodes.Count(e => e.Success);
        var certified = records.Count > 0 && records.All(r => r.ConvergedSteps is not null);
        var converged = certified ? records.SelectMany(r => r.ConvergedSteps!).ToList() : [];
        return new EvaluationReport(
            checkpoint, sampler, transport, SnakeCaseJson.Name(execution.Mode), execution.LatencySteps, SnakeCaseJson.Name(execution.Seam), episodes.Count,
            episodes.Count == 0 ? 0 : episodes.Average(e => e.Score),
            episodes.Count == 0 ? 0 : successes / (double)episodes.Count,
            WilsonInterval.Of(successes, episodes.Count),
            Quantiles.R7(records.SelectMany(r => r.SeamJerks), 0.95),
            Quantiles.R7(records.SelectMany(r => r.IntraJerks), 0.95),
            episodes.Sum(e => e.HeldTicks),
            episodes.Sum(e => e.DeadlineMisses),
            execution.DeadlineMs,
            chunks,
            episodes.Sum(e => e.ChunksCutShort),
            episodes.Sum(e => e.Refused),
            certified ? records.Max(r => r.DenoisingSteps) : null,
            converged.Count > 0 ? converged.Average() : null,
            converged.Count > 0 ? converged.Min() : null,
            actions == 0 ? 0 : episodes.Sum(e => e.InferenceSeconds) / actions,
            LatencySummary.Of(records.SelectMany(r => r.LatenciesMs).ToList()),
            chunks == 0 ? 0 : episodes.Sum(e => e.MeanIterations * e.Chunks) / chunks,
            wallSeconds,
            $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            episodes);
    }

    public string ToJson() => JsonSerializer.Serialize(this, SnakeCaseJson.Options);
}

/// <summary><c>eval --deadline-ms</c> with several deadlines: one evaluation of the same seeds per deadline, in the order given.</summary>
public sealed record DeadlineSweepReport(IReadOnlyList<EvaluationReport> Runs)
{
    public string ToJson() => JsonSerializer.Serialize(this, SnakeCaseJson.Options);
}
