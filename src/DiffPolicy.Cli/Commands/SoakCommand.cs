using System.CommandLine;
using System.Globalization;
using DiffPolicy.Cli.Serving;
using DiffPolicy.Cli.Soak;
using DiffPolicy.Control;
using DiffPolicy.Data;
using NetMQ;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy soak</c>: the real-time closed loop on loopback for a while; latency, slack, misses, memory.</summary>
internal sealed class SoakCommand : VerbCommand<SoakCommand.Settings>
{
    public sealed record Settings(
        PolicySettings Policy, TimeSpan Duration, int? Lead = null, string? Json = null, string? Plot = null, int Robots = 1, bool Stateless = false,
        double? DeadlineMs = null, int MaxBatch = FleetOptions.DefaultMaxBatch);

    public static readonly TimeSpan MinDuration = TimeSpan.FromSeconds(10), MaxDuration = TimeSpan.FromDays(7);

    /// <summary>A bound for the parser; the policy's own (horizon − n_obs_steps + 1 actions per chunk) is checked when it is loaded.</summary>
    public const int MaxLead = 1000;

    readonly Option<TimeSpan> duration = CliOptions.Duration("--duration", "How long to run: 90s, 10m, 1h (or seconds).", TimeSpan.FromMinutes(10), MinDuration, MaxDuration);
    readonly Option<int?> lead = CliOptions.OptionalInt("--lead",
        "Ask for the next chunk when this many planned actions remain, at most the actions a chunk carries (default horizon − n_obs_steps + 1 − n_action_steps: a new chunk every n_action_steps steps).", 1, MaxLead);
    readonly Option<FileInfo?> json = CliOptions.OutputFile("--json", "Write the report (percentiles, misses, memory, samples) as JSON.");
    readonly Option<FileInfo?> plot = CliOptions.OutputFile("--plot", "Write chunk latency and RSS over time as a PNG.");
    readonly Option<int> robots = FleetOptions.Robots("--robots", "Real-time PushT robots at once, each its own connection and seeds.", 1);
    readonly Option<bool> stateless = new("--stateless") { Description = "The robots send stateless infer requests (their own n_obs_steps observations) instead of a session's observations." };
    readonly Option<double?> deadline = FleetOptions.DeadlineMs();
    readonly Option<int> maxBatch = FleetOptions.MaxBatch();
    readonly PolicyOptions policy = new();

    public SoakCommand()
        : base("soak", "Run a policy server and real-time PushT robots on loopback for a duration: chunk latency and slack percentiles (HdrHistogram) per robot and in total, deadline misses, RSS, native tensors, GC.")
    {
        Add(duration, lead, json, plot, robots, stateless, deadline, maxBatch);
        Add([.. policy.All]);
    }

    public override Settings Bind(ParseResult parse) =>
        new(policy.Bind(parse), parse.GetValue(duration), parse.GetValue(lead), parse.GetValue(json)?.FullName, parse.GetValue(plot)?.FullName,
            parse.GetValue(robots), parse.GetValue(stateless), parse.GetValue(deadline), parse.GetValue(maxBatch));

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var jsonPath = OutputPaths.File("--json", settings.Json is null ? null : new FileInfo(settings.Json));
        var plotPath = OutputPaths.File("--plot", settings.Plot is null ? null : new FileInfo(settings.Plot));
        var (loaded, description) = settings.Policy.Load();
        using var diffusion = loaded;
        using var chunkPolicy = new DiffusionChunkPolicy(diffusion);
        PushTOptions.CheckPolicy(chunkPolicy.Metadata, Path.GetFullPath(settings.Policy.Checkpoint));
        if (settings.Lead is { } l && l > chunkPolicy.Metadata.PredictedSteps)
            throw new CliInputException("--lead", $"--lead {l} exceeds the {chunkPolicy.Metadata.PredictedSteps} actions a chunk of this policy carries.");
        var span = settings.Duration;
        AnsiConsole.MarkupLineInterpolated($"Soaking [bold]{Path.GetFullPath(settings.Policy.Checkpoint)}[/] for {span}: {description}, {settings.Robots} real-time robot{(settings.Robots == 1 ? "" : "s")} on loopback TCP");
        SoakReport? report = null;
        try
        {
            AnsiConsole.Live(Status(null, null, span)).Start(context =>
            {
                report = new SoakRun(chunkPolicy, span)
                {
                    Lead = settings.Lead,
                    Robots = settings.Robots,
                    Stateless = settings.Stateless,
                    DeadlineMs = settings.DeadlineMs,
                    MaxBatch = settings.MaxBatch,
                }.Run(description, (sample, latency) =>
                {
                    context.UpdateTarget(Status(sample, latency, span));
                    context.Refresh();
                }, cancel);
            });
        }
        finally
        {
            NetMQConfig.Cleanup(block: false);
        }
        Print(report!);
        if (jsonPath is not null)
        {
            AtomicFile.WriteAllText(jsonPath, report!.ToJson());
            AnsiConsole.MarkupLineInterpolated($"Report: {jsonPath}");
        }
        if (plotPath is not null)
        {
            SoakPlot.Save(report!, plotPath);
            AnsiConsole.MarkupLineInterpolated($"Plot: {plotPath}");
        }
        return cancel.IsCancellationRequested ? ExitCodes.Interrupted : ExitCodes.Done;
    }

    static Table Status(ProcessSample? sample, Percentiles? latency, TimeSpan duration)
    {
        static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
        var table = new Table().AddColumn("soak").AddColumn("now");
        if (sample is null || latency is null) return table.AddRow("starting", "");
        table.AddRow("elapsed", $"{F(sample.Seconds)} s of {F(duration.TotalSeconds)} s");
        table.AddRow("chunks / deadline misses (finished episodes)", $"{sample.Chunks} / {sample.DeadlineMisses}");
        table.AddRow("chunk latency p50 / p99 / max (ms)", $"{F(latency.P50)} / {F(latency.P99)} / {F(latency.Max)}");
        table.AddRow("RSS (MB) / live tensors", $"{F(sample.RssMb)} / {sample.Tensors}");
        table.AddRow("GC gen0 / gen1 / gen2", $"{sample.Gen0} / {sample.Gen1} / {sample.Gen2}");
        return table;
    }

    static void Print(SoakReport report)
    {
        static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
        static string P(Percentiles p) => $"{F(p.Min)} / {F(p.P50)} / {F(p.P90)} / {F(p.P99)} / {F(p.P99_9)} / {F(p.Max)}";
        var m = report.Memory;
        var table = new Table().AddColumn("metric").AddColumn("value");
        table.AddRow("duration (s) / episodes / ticks", $"{F(report.DurationSeconds)} / {report.Episodes} / {report.Ticks}");
        table.AddRow("chunks / late chunks / deadline misses", $"{report.Chunks} / {report.LateChunks} / {report.DeadlineMisses}");
        table.AddRow("chunk latency min / p50 / p90 / p99 / p99.9 / max (ms)", P(report.ChunkLatencyMs));
        table.AddRow("  without episodes' first chunks", P(report.SteadyChunkLatencyMs));
        table.AddRow("server infer min / p50 / p90 / p99 / p99.9 / max (ms)", P(report.ServerInferMs));
        table.AddRow("slack at arrival min / p50 / p90 / p99 / p99.9 / max (ms)", P(report.SlackMs));
        table.AddRow("RSS start / after warm-up / end (MB), drift", $"{F(m.RssStartMb)} / {F(m.RssAfterWarmupMb)} / {F(m.RssEndMb)}, {F(m.RssDriftMb)}");
        table.AddRow("live tensors start / after warm-up / end, drift", $"{m.TensorsStart} / {m.TensorsAfterWarmup} / {m.TensorsEnd}, {m.TensorDrift}");
        table.AddRow("GC collections gen0 / gen1 / gen2", $"{m.Gen0Collections} / {m.Gen1Collections} / {m.Gen2Collections}");
        table.AddRow("overloaded answers / longest without a plan (ms)", $"{report.Overloaded} / {F(report.LongestPlanlessMs)}");
        table.AddRow("sampler", Markup.Escape(report.Sampler));
        AnsiConsole.Write(table);
        if (report.Robots.Count > 1) AnsiConsole.Write(RobotTable(report.Robots));
    }

    /// <summary>One row per robot: what each saw of the shared server.</summary>
    internal static Table RobotTable(IEnumerable<RobotSoakReport> robots)
    {
        static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
        var table = new Table().AddColumns("robot", "episodes", "chunks", "chunks/s", "misses", "late", "overloaded", "longest planless (ms)", "latency p50 / p99 / max (ms)");
        foreach (var r in robots)
        {
            table.AddRow(r.Robot, $"{r.Episodes}", $"{r.Chunks}", F(r.ChunksPerSecond), $"{r.DeadlineMisses}", $"{r.LateChunks}", $"{r.Overloaded}", F(r.LongestPlanlessMs),
                $"{F(r.ChunkLatencyMs.P50)} / {F(r.ChunkLatencyMs.P99)} / {F(r.ChunkLatencyMs.Max)}");
        }
        return table;
    }
}
