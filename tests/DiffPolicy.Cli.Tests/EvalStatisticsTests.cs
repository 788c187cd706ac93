using DiffPolicy.Cli.Evaluation;

namespace DiffPolicy.Cli.Tests;

/// <summary>The report's statistics against published values, and resumable evaluations.</summary>
public sealed class EvalStatisticsTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("eval-progress-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3 (Wilson).</summary>
    [Theory]
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0000, 0.1611)]
    [InlineData(1, 29, 0.0061, 0.1718)]
    public void Wilson_interval_matches_Newcombe(int successes, int trials, double lower, double upper)
    {
        var interval = WilsonInterval.Of(successes, trials);
        Assert.Equal(lower, interval[0], 4);
        Assert.Equal(upper, interval[1], 4);
    }

    static EpisodeRecord Record(long seed, bool success) =>
        new(new EpisodeResult(seed, success ? 1 : 0.5, success, 10, 2, 0.1, 17, 1, 0), [100, 200], [3, 4], [1]);

    [Fact]
    public void The_report_pools_jerks_and_latencies_over_episodes()
    {
        EpisodeRecord[] records =
        [
            new(new EpisodeResult(1, 1, true, 10, 2, 0.1, 10, 2, 1), [100, 300], [1, 2, 3, 4, 5], [1, 1]),
            new(new EpisodeResult(2, 0.5, false, 20, 4, 0.3, 20, 3, 0), [200], [6, 7, 8, 9, 10], [2, 2]),
        ];
        var report = EvaluationReport.From("ckpt", "ddpm", "direct", new Execution(EvalMode.Latency, 4, Sim.PushT.Env.ChunkSeam.Blend), records, 1);
        Assert.Equal(0.75, report.Score);
        Assert.Equal(0.5, report.SuccessRate);
        Assert.Equal(WilsonInterval.Of(1, 2), report.SuccessCi95);
        Assert.Equal(9.55, report.SeamJerkP95, 9);   // R7 over 1 … 10: 1 + 0.95·9
        Assert.Equal(2.0, report.IntraJerkP95);
        Assert.Equal(5, report.HeldTicks);
        Assert.Equal(1, report.DeadlineMisses);
        Assert.Equal(200, report.ChunkLatencyMs.P50);
        Assert.Equal((10 * 2 + 20 * 4) / 6.0, report.MeanIterations, 9);
        Assert.Equal(("latency", 4, "blend"), (report.Mode, report.LatencySteps, report.Seam));
        Assert.Contains("\"success_ci95\"", report.ToJson());
    }

    [Fact]
    public void An_interrupted_evaluation_resumes_after_its_last_whole_episode()
    {
        var report = Path.Combine(folder, "eval.json");
        var identity = new EvalIdentity("ckpt", "ddpm", "latency", 4, "inpaint", 100_000, 300);
        using (var progress = EvalProgress.Open(report, identity))
        {
            Assert.Empty(progress.Done);
            progress.Append(Record(100_000, true));
            progress.Append(Record(100_001, false));
        }
        File.AppendAllText(EvalProgress.PathOf(report), "{\"result\":{\"seed\":100002,\"sco");   // killed mid-line

        using (var resumed = EvalProgress.Open(report, identity))
        {
            Assert.Equal([100_000L, 100_001], resumed.Done.Select(r => r.Result.Seed));
            Assert.Equal(Record(100_001, false).SeamJerks, resumed.Done[1].SeamJerks);
            resumed.Append(Record(100_002, true));
        }
        using (var again = EvalProgress.Open(report, identity))
        {
            Assert.Equal(3, again.Done.Count);
            again.Complete();
        }
        Assert.False(File.Exists(EvalProgress.PathOf(report)));
    }

    [Fact]
    public void Progress_of_another_evaluation_is_refused_naming_the_setting()
    {
        var report = Path.Combine(folder, "other.json");
        using (var progress = EvalProgress.Open(report, new EvalIdentity("ckpt", "ddpm", "latency", 4, "naive", 100_000, 300)))
        {
            progress.Append(Record(100_000, true));
        }
        var error = Assert.Throws<InvalidDataException>(() => EvalProgress.Open(report, new EvalIdentity("ckpt", "ddpm", "latency", 4, "inpaint", 100_000, 300)));
        Assert.Contains("seam naive", error.Message);
        Assert.Contains(EvalProgress.PathOf(report), error.Message);
    }
}
