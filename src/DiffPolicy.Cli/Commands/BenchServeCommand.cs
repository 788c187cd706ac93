using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffPolicy.Cli.Serving;
using DiffPolicy.Cli.Soak;
using DiffPolicy.Control;
using DiffPolicy.Data;
using NetMQ;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// <c>diffpolicy bench serve</c>: one server, N real-time PushT robots for a while, for each N given: chunk latency,
/// throughput, misses and overloaded answers against the number of robots, in one process and one run.
/// </summary>
internal sealed class BenchServeCommand : VerbCommand<BenchServeCommand.Settings>
{
    public sealed record Settings(
        PolicySettings Policy, int[] Robots, TimeSpan Duration, bool Stateless = false, int MaxBatch = FleetOptions.DefaultMaxBatch, string? Json = null);

    /// <summary>One row: N robots for the duration.</summary>
    /// <param name="ChunksPerSecond">Chunks served per second, all robots together.</param>
    public sealed record Row(
        int Robots, double Seconds, long Chunks, double ChunksPerSecond, long Ticks, long DeadlineMisses, long LateChunks, long Overloaded,
        double LongestPlanlessMs, Percentiles SteadyChunkLatencyMs, Percentiles ServerInferMs);

    readonly Option<int[]> robots = CliOptions.IntList("--robots", "Robot counts to compare, comma-separated.", "1,2,4,8", 1, FleetOptions.MaxRobots);
    readonly Option<TimeSpan> duration = CliOptions.Duration("--duration", "How long each count runs: 90s, 2m (or seconds).", TimeSpan.FromSeconds(60), SoakCommand.MinDuration, TimeSpan.FromHours(1));
    readonly Option<bool> stateless = new("--stateless") { Description = "The robots send stateless infer requests." };
    readonly Option<int> maxBatch = FleetOptions.MaxBatch();
    readonly Option<FileInfo?> json = CliOptions.OutputFile("--json", "Also write the rows as JSON.");
    readonly PolicyOptions policy = new();

    public BenchServeCommand()
        : base("serve", "Chunk latency and throughput of one policy server against the number of real-time PushT robots on loopback.")
    {
        Add(robots, duration, stateless, maxBatch, json);
        Add([.. policy.All]);
    }

    public override Settings Bind(ParseResult parse) => new(
        policy.Bind(parse), parse.GetValue(robots)!, parse.GetValue(duration), parse.GetValue(stateless), parse.GetValue(maxBatch), parse.GetValue(json)?.FullName);

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var jsonPath = OutputPaths.File("--json", settings.Json is null ? null : new FileInfo(settings.Json));
        var (loaded, description) = settings.Policy.Load();
        using var diffusion = loaded;
        using var chunkPolicy = new DiffusionChunkPolicy(diffusion);
        AnsiConsole.MarkupLineInterpolated($"bench serve: {Path.GetFullPath(settings.Policy.Checkpoint)}, {description}, {settings.Duration} per robot count, max batch {settings.MaxBatch}");
        var rows = new List<Row>();
        try
        {
            foreach (var n in settings.Robots)
            {
                if (cancel.IsCancellationRequested) break;
                var report = new SoakRun(chunkPolicy, settings.Duration) { Robots = n, Stateless = settings.Stateless, MaxBatch = settings.MaxBatch }.Run(description, cancel: cancel);
                var row = new Row(
                    n, report.DurationSeconds, report.Chunks, report.Chunks / report.DurationSeconds, report.Ticks, report.DeadlineMisses, report.LateChunks,
                    report.Overloaded, report.LongestPlanlessMs, report.SteadyChunkLatencyMs, report.ServerInferMs);
                rows.Add(row);
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{n} robots: {row.ChunksPerSecond:F2} chunks/s, latency p50 {row.SteadyChunkLatencyMs.P50:F0} / p99 {row.SteadyChunkLatencyMs.P99:F0} ms, {row.DeadlineMisses} misses in {row.Ticks} ticks, {row.Overloaded} overloaded"));
            }
        }
        finally
        {
            NetMQConfig.Cleanup(block: false);
        }
        var table = new Table().AddColumns("robots", "chunks/s", "steady latency p50 / p99 / max (ms)", "server infer p50 / p99 (ms)", "misses / ticks", "late", "overloaded", "longest planless (ms)");
        foreach (var r in rows)
        {
            table.AddRow($"{r.Robots}", r.ChunksPerSecond.ToString("F2", CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{r.SteadyChunkLatencyMs.P50:F0} / {r.SteadyChunkLatencyMs.P99:F0} / {r.SteadyChunkLatencyMs.Max:F0}"),
                string.Create(CultureInfo.InvariantCulture, $"{r.ServerInferMs.P50:F0} / {r.ServerInferMs.P99:F0}"),
                $"{r.DeadlineMisses} / {r.Ticks}", $"{r.LateChunks}", $"{r.Overloaded}", r.LongestPlanlessMs.ToString("F0", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        if (jsonPath is not null)
        {
            var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
            AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(
                new { sampler = description, duration_s = settings.Duration.TotalSeconds, max_batch = settings.MaxBatch, machine = $"{Environment.ProcessorCount} cores, load average at the end {load}", rows },
                SnakeCaseJson.Options));
            AnsiConsole.MarkupLineInterpolated($"Report: {jsonPath}");
        }
        return cancel.IsCancellationRequested ? ExitCodes.Interrupted : ExitCodes.Done;
    }
}
