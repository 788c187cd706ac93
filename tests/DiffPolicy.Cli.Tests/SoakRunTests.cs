using System.Text.Json;
using DiffPolicy.Cli.Soak;

namespace DiffPolicy.Cli.Tests;

/// <summary>Short soaks: the report's structure and invariants, with a fast policy and with one slower than the deadline.</summary>
public class SoakRunTests
{
    [Fact]
    public void A_short_soak_reports_latency_slack_and_memory()
    {
        var report = new SoakRun(new KeypointEchoPolicy(), TimeSpan.FromSeconds(6)) { SampleEvery = TimeSpan.FromSeconds(1) }.Run("echo");

        Assert.True(report.Episodes >= 1);
        Assert.True(report.Ticks >= 40, $"{report.Ticks} ticks in 6 s at 10 Hz");
        Assert.True(report.Chunks >= report.Ticks / 8, $"{report.Chunks} chunks for {report.Ticks} ticks");
        Assert.Equal(report.Chunks, report.ChunkLatencyMs.Count);
        Assert.Equal(report.Chunks, report.ServerInferMs.Count);
        // Every chunk but an episode's first has a slack, counted either as served (≥ 0) or as late.
        Assert.Equal(report.Chunks - report.Episodes, report.SlackMs.Count + report.LateChunks);
        Assert.True(report.ChunkLatencyMs.P50 <= report.ChunkLatencyMs.P99 && report.ChunkLatencyMs.P99 <= report.ChunkLatencyMs.Max);
        Assert.True(report.SlackMs.P50 >= 0);
        Assert.True(report.Samples.Count >= 3, $"{report.Samples.Count} process samples");
        Assert.True(report.Memory.RssStartMb > 0 && report.Memory.RssEndMb > 0);
        Assert.Equal(report.Memory.RssEndMb - report.Memory.RssAfterWarmupMb, report.Memory.RssDriftMb, 6);

        using var json = JsonDocument.Parse(report.ToJson());
        foreach (var key in new[] { "chunk_latency_ms", "server_infer_ms", "slack_ms" })
        {
            foreach (var field in new[] { "p50", "p90", "p99", "p99_9", "max" })
                Assert.True(json.RootElement.GetProperty(key).TryGetProperty(field, out _), $"{key}.{field} missing");
        }

        Assert.True(json.RootElement.GetProperty("memory").TryGetProperty("tensor_drift", out _));

        var png = Path.Combine(Path.GetTempPath(), $"soak-{Guid.NewGuid():N}.png");
        SoakPlot.Save(report, png);
        Assert.True(new FileInfo(png).Length > 1000);
        File.Delete(png);
    }

    [Fact]
    public void A_policy_slower_than_the_deadline_shows_as_misses_and_late_chunks_never_as_slack()
    {
        var report = new SoakRun(new KeypointEchoPolicy(TimeSpan.FromSeconds(2)), TimeSpan.FromSeconds(8)).Run("sleepy");

        Assert.True(report.Chunks >= 2, $"{report.Chunks} chunks");
        Assert.True(report.DeadlineMisses > 0, "a 2 s policy must miss 100 ms ticks");
        Assert.True(report.LateChunks > 0);
        Assert.Equal(0, report.SlackMs.Count);
        Assert.True(report.ChunkLatencyMs.P50 >= 1900, $"latency p50 {report.ChunkLatencyMs.P50} ms for a 2 s policy");
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1.5h", 5400)]
    [InlineData("12", 12)]
    public void Durations_parse(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Commands.CliOptions.ParseDuration(text));

    [Theory]
    [InlineData("")]
    [InlineData("-5s")]
    [InlineData("10x")]
    [InlineData("m")]
    public void Bad_durations_are_refused(string text) => Assert.Null(Commands.CliOptions.ParseDuration(text));
}
