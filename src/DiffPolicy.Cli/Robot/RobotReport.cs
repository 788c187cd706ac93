using System.Text.Json;
using System.Text.Json.Serialization;
using DiffPolicy.Cli.Evaluation;
using DiffPolicy.Data;
using DiffPolicy.Sim.PushT.Robot;

namespace DiffPolicy.Cli.Robot;

/// <summary>One episode of <c>pusht robot</c>, as printed and written.</summary>
public sealed record RobotEpisodeRow(
    long Seed, double Score, bool Success, int Steps, int Chunks, int DeadlineMisses, int StartupTicks, int SkippedSteps, int DroppedActions,
    int Rehellos, LatencySummary LatencyMs, LatencySummary InferMs)
{
    public static RobotEpisodeRow From(RobotEpisode run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new RobotEpisodeRow(
            run.Episode.Seed, run.Episode.MaxReward, run.Episode.Success, run.Episode.Steps.Count, run.Chunks, run.DeadlineMisses, run.StartupTicks,
            run.SkippedSteps, run.DroppedActions, run.Rehellos,
            LatencySummary.Of(run.Timings.Select(t => t.LatencyMs).ToList()), LatencySummary.Of(run.Timings.Select(t => t.InferMs).ToList()));
    }
}

/// <summary>What <c>diffpolicy pusht robot</c> writes as JSON.</summary>
public sealed record RobotReport(string Endpoint, string Mode, IReadOnlyList<RobotEpisodeRow> PerEpisode)
{
    public double Score => PerEpisode.Count == 0 ? 0 : PerEpisode.Average(e => e.Score);

    public double SuccessRate => PerEpisode.Count == 0 ? 0 : PerEpisode.Count(e => e.Success) / (double)PerEpisode.Count;

    public int DeadlineMisses => PerEpisode.Sum(e => e.DeadlineMisses);

    public int Rehellos => PerEpisode.Sum(e => e.Rehellos);

    public string ToJson() => JsonSerializer.Serialize(this, SnakeCaseJson.Options);
}
