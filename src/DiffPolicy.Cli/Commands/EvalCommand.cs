using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DiffPolicy.Cli.Evaluation;
using DiffPolicy.Cli.Serving;
using DiffPolicy.Control;
using DiffPolicy.Data;
using DiffPolicy.Policy;
using DiffPolicy.Protocol;
using DiffPolicy.Sim.PushT.Env;
using NetMQ;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy eval</c>: closed-loop PushT evaluation of a checkpoint (or of a running server).</summary>
internal sealed class EvalCommand : VerbCommand<EvalCommand.Settings>
{
    /// <summary>How <c>eval</c> reaches the policy it loaded.</summary>
    internal enum EvalTransport
    {
        Inproc,
        Tcp,
        Direct,
    }

    /// <param name="LatencySteps">Latency mode: d, null = auto (measured); real time: the frozen steps a robot sends with its plan, null = estimated.</param>
    public sealed record Settings(
        PolicySettings Policy, long SeedStart = 100_000, int Episodes = 50, int MaxSteps = 300, string? Video = null, string? Json = null,
        EvalTransport Transport = EvalTransport.Inproc, string? Connect = null,
        EvalMode Mode = EvalMode.Lockstep, int? LatencySteps = null, ChunkSeam Seam = ChunkSeam.Naive, double?[]? DeadlinesMs = null);

    public const int MaxEpisodes = 100_000, MaxControlSteps = 100_000;

    /// <summary>The largest --latency-steps: beyond it a PushT episode is mostly held ticks.</summary>
    public const int MaxLatencySteps = 64;

    /// <summary>--deadline-ms bounds: the wire's (0, 600000], from 0.1 ms (one iteration always runs).</summary>
    public const double MinDeadlineMs = 0.1, MaxDeadlineMs = MessageCodec.MaxDeadlineMs;

    readonly Option<long> seedStart = PushTOptions.SeedStart(100_000);
    readonly Option<int> episodes = CliOptions.Int("--episodes", "Episodes, one per consecutive seed.", 50, 1, MaxEpisodes);
    readonly Option<int> maxSteps = CliOptions.Int("--max-steps", "Control steps per episode at most (stops early on success).", 300, 1, MaxControlSteps);
    readonly Option<DirectoryInfo?> video = CliOptions.OutputFolder("--video", "Write every episode as an animated GIF (episode_<seed>.gif) into this folder.");
    readonly Option<FileInfo?> json = CliOptions.OutputFile("--json", "Write the report (summary and per-episode rows) as JSON.");
    readonly Option<EvalTransport> transport = CliOptions.Choice("--transport",
        "inproc: a policy server in this process over ZeroMQ inproc:// (default); tcp: the same over loopback TCP; direct: no sockets.", EvalTransport.Inproc);
    readonly Option<string?> connect = new("--connect") { Description = "Evaluate the policy of a running `diffpolicy serve` at this endpoint instead of loading a checkpoint." };
    readonly Option<EvalMode> mode = CliOptions.Choice("--mode",
        "lockstep: the simulation waits for every chunk (the papers' protocol); latency: deterministic simulated latency, a chunk asked at step k is usable at k + d (--latency-steps); realtime: the 10 Hz wall-clock robot against the server.",
        EvalMode.Lockstep);
    readonly Option<int?> latencySteps = new("--latency-steps")
    {
        Description = $"latency: d, 0–{MaxLatencySteps}, or auto = ceil(p95 of measured inference / dt) (the default); realtime: the steps a robot marks frozen when it sends its plan (default: its slowest recent round trip). [0–{MaxLatencySteps}, auto]",
        CustomParser = result =>
        {
            var text = string.Join(' ', result.Tokens.Select(t => t.Value));
            if (text == "auto") return null;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var d) && d <= MaxLatencySteps) return d;
            result.AddError($"--latency-steps takes 0–{MaxLatencySteps} or auto, not '{text}'.");
            return null;
        },
    };
    readonly Option<ChunkSeam> seam = CliOptions.Choice("--seam",
        "Where a newer chunk takes over (latency and realtime modes): naive, it replaces the plan; blend, 0.3 old + 0.7 new where both plan (lerobot's weighted_average); inpaint, the robot sends its plan and the sampler inpaints the frozen steps and the rest of the overlap.",
        ChunkSeam.Naive);
    readonly Option<double?[]> deadlines = new("--deadline-ms")
    {
        Description = "deadline_ms the robot sends with every request: the server answers by then with what has converged (anytime ParaDiGMS, docs/protocol.md §4a); the lockstep robot executes every chunk, as §4a's rule says for a robot without a plan left. A comma-separated list, e.g. 60,120,200,none, evaluates the same seeds once per deadline and reports one row each (none: no deadline). [0.1–600000, none]",
        DefaultValueFactory = _ => [null],
        CustomParser = result =>
        {
            var text = string.Join(',', result.Tokens.Select(t => t.Value));
            var values = new List<double?>();
            foreach (var item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (item == "none")
                {
                    values.Add(null);
                }
                else if (double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= MinDeadlineMs && ms <= MaxDeadlineMs)
                {
                    values.Add(ms);
                }
                else
                {
                    result.AddError($"--deadline-ms takes comma-separated milliseconds in [{MinDeadlineMs.ToString(CultureInfo.InvariantCulture)}, {MaxDeadlineMs.ToString(CultureInfo.InvariantCulture)}] or none, not '{text}'.");
                    return [];
                }
            }
            if (values.Count == 0) result.AddError("--deadline-ms needs at least one value.");
            return [.. values];
        },
    };
    readonly PolicyOptions policy = new();

    public EvalCommand()
        : base("eval", "Closed-loop PushT evaluation of a policy checkpoint through the ZeroMQ path: score (mean max reward), success rate, seconds per action, chunk latency, ParaDiGMS iterations.")
    {
        Add(seedStart, episodes, maxSteps, video, json, transport, connect, mode, latencySteps, seam, deadlines);
        Add([.. policy.All]);
    }

    public override Settings Bind(ParseResult parse) => new(
        policy.Bind(parse), parse.GetValue(seedStart), parse.GetValue(episodes), parse.GetValue(maxSteps), parse.GetValue(video)?.FullName,
        parse.GetValue(json)?.FullName, parse.GetValue(transport), parse.GetValue(connect), parse.GetValue(mode), parse.GetValue(latencySteps), parse.GetValue(seam),
        parse.GetValue(deadlines));

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        PushTOptions.CheckSeeds(settings.SeedStart, settings.Episodes);
        var jsonPath = OutputPaths.File("--json", settings.Json is null ? null : new FileInfo(settings.Json));
        var videos = new VideoFolder(OutputPaths.Folder("--video", settings.Video is null ? null : new DirectoryInfo(settings.Video)));

        CheckExecution(settings);
        var deadlines = Deadlines(settings);

        DiffusionPolicy? loaded = null;
        DiffusionChunkPolicy? chunkPolicy = null;
        var progresses = new List<EvalProgress>();
        string description = "the server's", source = settings.Connect ?? Path.GetFullPath(settings.Policy.Checkpoint);
        try
        {
            if (settings.Connect is null)
            {
                (loaded, description) = settings.Policy.Load();
                chunkPolicy = new DiffusionChunkPolicy(loaded);
                PushTOptions.CheckPolicy(chunkPolicy.Metadata, source);
            }
            var reports = new List<EvaluationReport>();
            var complete = true;
            foreach (var deadline in deadlines)
            {
                // A sweep keeps one progress file per deadline, so an interrupted sweep resumes inside the deadline it stopped in.
                var runPath = jsonPath is null || deadlines.Length == 1 ? jsonPath : $"{jsonPath}.deadline_{DeadlineLabel(deadline)}";
                var run = EvaluateOnce(settings, chunkPolicy, deadline, runPath, videos, deadlines.Length == 1 ? "" : $"_deadline_{DeadlineLabel(deadline)}",
                    source, description, progresses, cancel);
                if (run.Report is { } report) reports.Add(report);
                if (!run.Complete)
                {
                    complete = false;
                    break;
                }
            }
            if (reports.Count == 0) throw new OperationCanceledException();
            if (deadlines.Length == 1) Print(reports[0]);
            else PrintSweep(reports);
            if (jsonPath is not null)
            {
                AtomicFile.WriteAllText(jsonPath, deadlines.Length == 1 ? reports[0].ToJson() : new DeadlineSweepReport(reports).ToJson());
                AnsiConsole.MarkupLineInterpolated($"Report: {jsonPath}");
            }
            if (!complete)
            {
                AnsiConsole.MarkupLineInterpolated(
                    $"Interrupted after {reports[^1].Episodes} of {settings.Episodes} episodes{(deadlines.Length == 1 ? "" : $" at deadline {DeadlineLabel(deadlines[reports.Count - 1])}")}; the report covers those{(jsonPath is null ? "" : "; the same command resumes")}.");
                return ExitCodes.Interrupted;
            }
            foreach (var progress in progresses) progress.Complete();
            return ExitCodes.Done;
        }
        catch (TimeoutException e) when (settings.Connect is not null)
        {
            throw new TimeoutException($"--connect '{settings.Connect}': {e.Message}", e);
        }
        finally
        {
            foreach (var progress in progresses) progress.Dispose();
            chunkPolicy?.Dispose();
            loaded?.Dispose();
            NetMQConfig.Cleanup(block: false);
        }
    }

    /// <summary>
    /// The episodes of one evaluation (one deadline): resumed from <paramref name="reportPath"/>'s progress when it has
    /// some. Complete is false when <paramref name="cancel"/> stopped it early; Report is null when it stopped before any episode.
    /// </summary>
    static (EvaluationReport? Report, bool Complete) EvaluateOnce(Settings settings, DiffusionChunkPolicy? chunkPolicy, double? deadline, string? reportPath,
        VideoFolder videos, string videoSuffix, string source, string description, List<EvalProgress> progresses, CancellationToken cancel)
    {
        var execution = Resolve(settings, chunkPolicy, reportPath) with { DeadlineMs = deadline };
        using var runner = Connect(settings, chunkPolicy, execution);
        var records = new List<EpisodeRecord>();
        EvalProgress? progress = null;
        if (reportPath is not null)
        {
            try
            {
                progress = EvalProgress.Open(reportPath, new EvalIdentity(source, description, SnakeCaseJson.Name(execution.Mode), execution.LatencySteps, SnakeCaseJson.Name(execution.Seam),
                    settings.SeedStart, settings.MaxSteps, deadline));
            }
            catch (InvalidDataException e)
            {
                throw new CliInputException("--json", e.Message, e);
            }
            progresses.Add(progress);
            records.AddRange(progress.Done.Take(settings.Episodes));
            if (records.Count > 0) AnsiConsole.MarkupLineInterpolated($"Resuming: {records.Count} episodes done ({progress.Path})");
        }
        var watch = Stopwatch.StartNew();
        var how = execution.Mode == EvalMode.Lockstep ? "lockstep"
            : string.Create(CultureInfo.InvariantCulture, $"{SnakeCaseJson.Name(execution.Mode)}, d {execution.LatencySteps?.ToString(CultureInfo.InvariantCulture) ?? "estimated"}, {SnakeCaseJson.Name(execution.Seam)} seam");
        if (deadline is not null) how += $", deadline {DeadlineLabel(deadline)} ms";
        AnsiConsole.MarkupLineInterpolated($"Evaluating [bold]{source}[/] on seeds {settings.SeedStart} … {settings.SeedStart + settings.Episodes - 1} ({runner.Transport}, {how}): {description}, {TorchRuntime.Threads} threads");
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("episodes", maxValue: settings.Episodes);
                task.Increment(records.Count);
                for (var i = records.Count; i < settings.Episodes && !cancel.IsCancellationRequested; i++)
                {
                    var seed = settings.SeedStart + i;
                    var record = videos.Record($"episode_{seed}{videoSuffix}", observe => PushTEvaluation.Run(runner, seed, settings.MaxSteps, observe));
                    records.Add(record);
                    progress?.Append(record);
                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"episodes: score {records.Average(r => r.Result.Score):F3}, success {records.Count(r => r.Result.Success)}/{records.Count}");
                    task.Increment(1);
                }
            });
        var report = records.Count == 0 ? null : EvaluationReport.From(source, description, runner.Transport, execution, records, watch.Elapsed.TotalSeconds);
        return (report, records.Count == settings.Episodes);
    }

    /// <summary>The deadlines to evaluate, in the order given; one null (no deadline) when none were given.</summary>
    static double?[] Deadlines(Settings settings)
    {
        var deadlines = settings.DeadlinesMs is { Length: > 0 } given ? given : [null];
        if (deadlines.Distinct().Count() != deadlines.Length)
            throw new CliInputException("--deadline-ms", $"lists a deadline twice: {string.Join(",", deadlines.Select(DeadlineLabel))}");
        if (deadlines.Any(d => d is < MinDeadlineMs or > MaxDeadlineMs))
            throw new CliInputException("--deadline-ms", $"takes deadlines in [{MinDeadlineMs}, {MaxDeadlineMs}] ms or none");
        if (deadlines.Any(d => d is not null) && settings.Connect is null && settings.Transport == EvalTransport.Direct)
            throw new CliInputException("--transport", "--deadline-ms is answered by a policy server: inproc, tcp or --connect");
        return deadlines;
    }

    static string DeadlineLabel(double? deadline) => deadline?.ToString(CultureInfo.InvariantCulture) ?? "none";

    /// <summary>Combinations of mode, latency and seam that mean nothing are refused before anything is loaded.</summary>
    static void CheckExecution(Settings settings)
    {
        if (settings.Mode == EvalMode.Lockstep && settings.LatencySteps is not null)
            throw new CliInputException("--latency-steps", "needs --mode latency or realtime");
        if (settings.Mode == EvalMode.Lockstep && settings.Seam != ChunkSeam.Naive)
            throw new CliInputException("--seam", "needs --mode latency or realtime (in lockstep every chunk runs alone)");
        if (settings.Mode == EvalMode.Realtime && settings.Connect is null && settings.Transport == EvalTransport.Direct)
            throw new CliInputException("--transport", "--mode realtime runs the robot against a policy server: inproc, tcp or --connect");
        if (settings.Mode == EvalMode.Latency && settings.LatencySteps is null && settings.Connect is not null)
            throw new CliInputException("--latency-steps", "auto measures the policy in this process: give a number with --connect");
        if (settings.LatencySteps is < 0 or > MaxLatencySteps)
            throw new CliInputException("--latency-steps", $"takes 0–{MaxLatencySteps} or auto, not {settings.LatencySteps}");
    }

    /// <summary>Latency mode's d: given, taken from the run being resumed, or measured here (auto).</summary>
    static Execution Resolve(Settings settings, DiffusionChunkPolicy? policy, string? jsonPath)
    {
        if (settings.Mode != EvalMode.Latency || settings.LatencySteps is not null) return new Execution(settings.Mode, settings.LatencySteps, settings.Seam);
        EvalIdentity? resumed = null;
        try
        {
            resumed = jsonPath is null ? null : EvalProgress.Recorded(jsonPath);
        }
        catch (InvalidDataException e)
        {
            throw new CliInputException("--json", e.Message, e);
        }
        if (resumed is { Mode: "latency", LatencySteps: { } earlier } && resumed.Seam == SnakeCaseJson.Name(settings.Seam))
        {
            AnsiConsole.MarkupLineInterpolated($"Latency: d = {earlier} steps, as measured by the run being resumed");
            return new Execution(EvalMode.Latency, earlier, settings.Seam);
        }
        var (steps, p95) = LatencyCalibration.Measure(policy!, settings.Seam, settings.SeedStart);
        AnsiConsole.MarkupLineInterpolated($"Latency: p95 {p95:F0} ms per chunk on this machine → d = {steps} steps");
        return new Execution(EvalMode.Latency, steps, settings.Seam);
    }

    static IEpisodeRunner Connect(Settings settings, DiffusionChunkPolicy? policy, Execution execution)
    {
        if (settings.Connect is { } endpoint)
        {
            try
            {
                return ZeroMqEpisodes.Remote(endpoint, execution);
            }
            catch (Exception e) when (e is NetMQException or ArgumentException)
            {
                throw new CliInputException("--connect", $"cannot connect to '{endpoint}': {e.Message}", e);
            }
        }
        return settings.Transport == EvalTransport.Direct
            ? new DirectEpisodes(policy!, execution)
            : ZeroMqEpisodes.Serving(policy!, tcp: settings.Transport == EvalTransport.Tcp, execution);
    }

    static void Print(EvaluationReport report)
    {
        static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        var table = new Table().AddColumn("metric").AddColumn("value");
        table.AddRow("episodes", report.Episodes.ToString(CultureInfo.InvariantCulture));
        table.AddRow("score (mean max reward)", F(report.Score, "F3"));
        table.AddRow("success rate (Wilson 95 % interval)", $"{F(report.SuccessRate, "P0")} ({F(report.SuccessCi95[0], "P0")} – {F(report.SuccessCi95[1], "P0")})");
        table.AddRow("mode", report.Mode == "lockstep" ? "lockstep"
            : $"{report.Mode}, d {report.LatencySteps?.ToString(CultureInfo.InvariantCulture) ?? "estimated"}, {report.Seam} seam");
        table.AddRow("jerk p95 at seams / inside chunks (px/step²)", $"{F(report.SeamJerkP95, "F2")} / {F(report.IntraJerkP95, "F2")}");
        table.AddRow("held ticks / deadline misses", $"{report.HeldTicks} / {report.DeadlineMisses}");
        table.AddRow("request deadline (ms)", DeadlineLabel(report.DeadlineMs));
        table.AddRow("chunks / cut short at the deadline / requests refused (overloaded)", $"{report.Chunks} / {report.ChunksCutShort} / {report.Refused}");
        table.AddRow("denoising steps converged per chunk: mean / min of S", Converged(report));
        table.AddRow("seconds per action", F(report.SecondsPerAction, "F4"));
        table.AddRow("chunk latency p50 / p95 / p99 / max (ms)",
            $"{F(report.ChunkLatencyMs.P50, "F0")} / {F(report.ChunkLatencyMs.P95, "F0")} / {F(report.ChunkLatencyMs.P99, "F0")} / {F(report.ChunkLatencyMs.Max, "F0")}");
        table.AddRow("parallel iterations per chunk (mean)", F(report.MeanIterations, "F1"));
        table.AddRow("sampler", Markup.Escape(report.Sampler));
        table.AddRow("wall time (s)", F(report.WallSeconds, "F0"));
        AnsiConsole.Write(table);
    }

    static string Converged(EvaluationReport report) => report.DenoisingSteps is { } steps
        ? string.Create(CultureInfo.InvariantCulture, $"{report.ConvergedStepsMean:F1} / {report.ConvergedStepsMin} of {steps}")
        : "not reported";

    /// <summary>One row per deadline: the issue's "score against deadlines" table.</summary>
    static void PrintSweep(IReadOnlyList<EvaluationReport> reports)
    {
        static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        var table = new Table().AddColumn("deadline ms").AddColumn("episodes").AddColumn("score").AddColumn("success").AddColumn("chunks").AddColumn("cut short").AddColumn("refused")
            .AddColumn("steps converged: mean / min of S").AddColumn("latency p50 / p99 ms").AddColumn("iterations");
        foreach (var r in reports)
        {
            table.AddRow(DeadlineLabel(r.DeadlineMs), r.Episodes.ToString(CultureInfo.InvariantCulture), F(r.Score, "F3"), F(r.SuccessRate, "P0"),
                r.Chunks.ToString(CultureInfo.InvariantCulture), r.ChunksCutShort.ToString(CultureInfo.InvariantCulture), r.Refused.ToString(CultureInfo.InvariantCulture), Converged(r),
                $"{F(r.ChunkLatencyMs.P50, "F0")} / {F(r.ChunkLatencyMs.P99, "F0")}", F(r.MeanIterations, "F1"));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"sampler: {reports[0].Sampler}; mode {reports[0].Mode}; cut short: chunks the server stopped at the deadline (converged prefix + x̂0 for the rest), executed by the robot; refused: requests answered overloaded (not one iteration fitted), the robot held for a step and asked again.");
    }
}
