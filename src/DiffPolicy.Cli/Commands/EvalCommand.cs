using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DiffPolicy.Cli.Evaluation;
using DiffPolicy.Cli.Serving;
using DiffPolicy.Control;
using DiffPolicy.Data;
using DiffPolicy.Policy;
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
        EvalMode Mode = EvalMode.Lockstep, int? LatencySteps = null, ChunkSeam Seam = ChunkSeam.Naive);

    public const int MaxEpisodes = 100_000, MaxControlSteps = 100_000;

    /// <summary>The largest --latency-steps: beyond it a PushT episode is mostly held ticks.</summary>
    public const int MaxLatencySteps = 64;

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
    readonly PolicyOptions policy = new();

    public EvalCommand()
        : base("eval", "Closed-loop PushT evaluation of a policy checkpoint through the ZeroMQ path: score (mean max reward), success rate, seconds per action, chunk latency, ParaDiGMS iterations.")
    {
        Add(seedStart, episodes, maxSteps, video, json, transport, connect, mode, latencySteps, seam);
        Add([.. policy.All]);
    }

    public override Settings Bind(ParseResult parse) => new(
        policy.Bind(parse), parse.GetValue(seedStart), parse.GetValue(episodes), parse.GetValue(maxSteps), parse.GetValue(video)?.FullName,
        parse.GetValue(json)?.FullName, parse.GetValue(transport), parse.GetValue(connect), parse.GetValue(mode), parse.GetValue(latencySteps), parse.GetValue(seam));

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        PushTOptions.CheckSeeds(settings.SeedStart, settings.Episodes);
        var jsonPath = OutputPaths.File("--json", settings.Json is null ? null : new FileInfo(settings.Json));
        var videos = new VideoFolder(OutputPaths.Folder("--video", settings.Video is null ? null : new DirectoryInfo(settings.Video)));

        CheckExecution(settings);

        DiffusionPolicy? loaded = null;
        DiffusionChunkPolicy? chunkPolicy = null;
        EvalProgress? progress = null;
        string description = "the server's", source = settings.Connect ?? Path.GetFullPath(settings.Policy.Checkpoint);
        try
        {
            if (settings.Connect is null)
            {
                (loaded, description) = settings.Policy.Load();
                chunkPolicy = new DiffusionChunkPolicy(loaded);
                PushTOptions.CheckPolicy(chunkPolicy.Metadata, source);
            }
            var execution = Resolve(settings, chunkPolicy, jsonPath);
            using var runner = Connect(settings, chunkPolicy, execution);
            var records = new List<EpisodeRecord>();
            if (jsonPath is not null)
            {
                try
                {
                    progress = EvalProgress.Open(jsonPath, new EvalIdentity(source, description, SnakeCaseJson.Name(execution.Mode), execution.LatencySteps, SnakeCaseJson.Name(execution.Seam),
                        settings.SeedStart, settings.MaxSteps));
                }
                catch (InvalidDataException e)
                {
                    throw new CliInputException("--json", e.Message, e);
                }
                records.AddRange(progress.Done.Take(settings.Episodes));
                if (records.Count > 0) AnsiConsole.MarkupLineInterpolated($"Resuming: {records.Count} episodes done ({progress.Path})");
            }
            var watch = Stopwatch.StartNew();
            var how = execution.Mode == EvalMode.Lockstep ? "lockstep"
                : string.Create(CultureInfo.InvariantCulture, $"{SnakeCaseJson.Name(execution.Mode)}, d {execution.LatencySteps?.ToString(CultureInfo.InvariantCulture) ?? "estimated"}, {SnakeCaseJson.Name(execution.Seam)} seam");
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
                        var record = videos.Record($"episode_{seed}", observe => PushTEvaluation.Run(runner, seed, settings.MaxSteps, observe));
                        records.Add(record);
                        progress?.Append(record);
                        task.Description = string.Create(CultureInfo.InvariantCulture,
                            $"episodes: score {records.Average(r => r.Result.Score):F3}, success {records.Count(r => r.Result.Success)}/{records.Count}");
                        task.Increment(1);
                    }
                });
            if (records.Count == 0) throw new OperationCanceledException();
            var report = EvaluationReport.From(source, description, runner.Transport, execution, records, watch.Elapsed.TotalSeconds);
            Print(report);
            if (jsonPath is not null)
            {
                AtomicFile.WriteAllText(jsonPath, report.ToJson());
                AnsiConsole.MarkupLineInterpolated($"Report: {jsonPath}");
            }
            if (records.Count < settings.Episodes)
            {
                AnsiConsole.MarkupLineInterpolated($"Interrupted after {records.Count} of {settings.Episodes} episodes; the report covers those{(progress is null ? "" : "; the same command resumes")}.");
                return ExitCodes.Interrupted;
            }
            progress?.Complete();
            return ExitCodes.Done;
        }
        catch (TimeoutException e) when (settings.Connect is not null)
        {
            throw new TimeoutException($"--connect '{settings.Connect}': {e.Message}", e);
        }
        finally
        {
            progress?.Dispose();
            chunkPolicy?.Dispose();
            loaded?.Dispose();
            NetMQConfig.Cleanup(block: false);
        }
    }

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
        table.AddRow("seconds per action", F(report.SecondsPerAction, "F4"));
        table.AddRow("chunk latency p50 / p95 / p99 / max (ms)",
            $"{F(report.ChunkLatencyMs.P50, "F0")} / {F(report.ChunkLatencyMs.P95, "F0")} / {F(report.ChunkLatencyMs.P99, "F0")} / {F(report.ChunkLatencyMs.Max, "F0")}");
        table.AddRow("parallel iterations per chunk (mean)", F(report.MeanIterations, "F1"));
        table.AddRow("sampler", Markup.Escape(report.Sampler));
        table.AddRow("wall time (s)", F(report.WallSeconds, "F0"));
        AnsiConsole.Write(table);
    }
}
