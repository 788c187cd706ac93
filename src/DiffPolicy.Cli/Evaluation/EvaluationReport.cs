using System.Text.Json;
using System.Text.Json.Serialization;
using MathNet.Numerics.Statistics;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>Chunk latency percentiles in milliseconds.</summary>
public sealed record LatencySummary(double P50, double P90, double P99, double Max)
{
    public static LatencySummary Of(IReadOnlyCollection<double> milliseconds) => milliseconds.Count == 0
        ? new LatencySummary(0, 0, 0, 0)
        : new LatencySummary(
            Statistics.QuantileCustom(milliseconds, 0.50, QuantileDefinition.R7),
            Statistics.QuantileCustom(milliseconds, 0.90, QuantileDefinition.R7),
            Statistics.QuantileCustom(milliseconds, 0.99, QuantileDefinition.R7),
            milliseconds.Max());
}

/// <summary>What <c>diffpolicy eval</c> prints and writes as JSON.</summary>
public sealed record EvaluationReport(
    string Checkpoint,
    string Sampler,
    string Transport,
    int Episodes,
    double Score,
    double SuccessRate,
    double SecondsPerAction,
    LatencySummary ChunkLatencyMs,
    double MeanIterations,
    double WallSeconds,
    string Machine,
    IReadOnlyList<EpisodeResult> PerEpisode)
{
    public static EvaluationReport From(string checkpoint, string sampler, string transport, IReadOnlyList<EpisodeResult> episodes, IReadOnlyCollection<double> latencies, double wallSeconds)
    {
        ArgumentNullException.ThrowIfNull(episodes);
        int actions = episodes.Sum(e => e.Steps);
        int chunks = episodes.Sum(e => e.Chunks);
        return new EvaluationReport(
            checkpoint, sampler, transport, episodes.Count,
            episodes.Count == 0 ? 0 : episodes.Average(e => e.Score),
            episodes.Count == 0 ? 0 : episodes.Count(e => e.Success) / (double)episodes.Count,
            actions == 0 ? 0 : episodes.Sum(e => e.InferenceSeconds) / actions,
            LatencySummary.Of(latencies),
            chunks == 0 ? 0 : episodes.Sum(e => e.MeanIterations * e.Chunks) / chunks,
            wallSeconds,
            $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            episodes);
    }

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
