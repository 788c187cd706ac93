using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DiffPolicy.Cli.Evaluation;
using DiffPolicy.Control;
using DiffPolicy.Data;
using DiffPolicy.Policy;
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

    public sealed record Settings(
        PolicySettings Policy, long SeedStart = 100_000, int Episodes = 50, int MaxSteps = 300, string? Video = null, string? Json = null,
        EvalTransport Transport = EvalTransport.Inproc, string? Connect = null);

    public const int MaxEpisodes = 100_000, MaxControlSteps = 100_000;

    readonly Option<long> seedStart = PushTOptions.SeedStart(100_000);
    readonly Option<int> episodes = CliOptions.Int("--episodes", "Episodes, one per consecutive seed.", 50, 1, MaxEpisodes);
    readonly Option<int> maxSteps = CliOptions.Int("--max-steps", "Control steps per episode at most (stops early on success).", 300, 1, MaxControlSteps);
    readonly Option<DirectoryInfo?> video = CliOptions.OutputFolder("--video", "Write every episode as an animated GIF (episode_<seed>.gif) into this folder.");
    readonly Option<FileInfo?> json = CliOptions.OutputFile("--json", "Write the report (summary and per-episode rows) as JSON.");
    readonly Option<EvalTransport> transport = CliOptions.Choice("--transport",
        "inproc: a policy server in this process over ZeroMQ inproc:// (default); tcp: the same over loopback TCP; direct: no sockets.", EvalTransport.Inproc);
    readonly Option<string?> connect = new("--connect") { Description = "Evaluate the policy of a running `diffpolicy serve` at this endpoint instead of loading a checkpoint." };
    readonly PolicyOptions policy = new();

    public EvalCommand()
        : base("eval", "Closed-loop PushT evaluation of a policy checkpoint through the ZeroMQ path: score (mean max reward), success rate, seconds per action, chunk latency, ParaDiGMS iterations.")
    {
        Add(seedStart, episodes, maxSteps, video, json, transport, connect);
        Add([.. policy.All]);
    }

    public override Settings Bind(ParseResult parse) => new(
        policy.Bind(parse), parse.GetValue(seedStart), parse.GetValue(episodes), parse.GetValue(maxSteps), parse.GetValue(video)?.FullName,
        parse.GetValue(json)?.FullName, parse.GetValue(transport), parse.GetValue(connect));

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        PushTOptions.CheckSeeds(settings.SeedStart, settings.Episodes);
        var jsonPath = OutputPaths.File("--json", settings.Json is null ? null : new FileInfo(settings.Json));
        var videos = new VideoFolder(OutputPaths.Folder("--video", settings.Video is null ? null : new DirectoryInfo(settings.Video)));

        DiffusionPolicy? loaded = null;
        DiffusionChunkPolicy? chunkPolicy = null;
        string description = "the server's", source = settings.Connect ?? Path.GetFullPath(settings.Policy.Checkpoint);
        try
        {
            if (settings.Connect is null)
            {
                (loaded, description) = settings.Policy.Load();
                chunkPolicy = new DiffusionChunkPolicy(loaded);
            }
            using var runner = Connect(settings, chunkPolicy);
            var results = new List<EpisodeResult>();
            var latencies = new List<double>();
            var watch = Stopwatch.StartNew();
            AnsiConsole.MarkupLineInterpolated($"Evaluating [bold]{source}[/] on seeds {settings.SeedStart} … {settings.SeedStart + settings.Episodes - 1} ({runner.Transport}): {description}, {TorchRuntime.Threads} threads");
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask("episodes", maxValue: settings.Episodes);
                    for (var i = 0; i < settings.Episodes && !cancel.IsCancellationRequested; i++)
                    {
                        var seed = settings.SeedStart + i;
                        results.Add(videos.Record($"episode_{seed}", observe => PushTEvaluation.RunEpisode(runner, seed, settings.MaxSteps, latencies, observe)));
                        task.Description = string.Create(CultureInfo.InvariantCulture,
                            $"episodes: score {results.Average(r => r.Score):F3}, success {results.Count(r => r.Success)}/{results.Count}");
                        task.Increment(1);
                    }
                });
            if (results.Count == 0) throw new OperationCanceledException();
            var report = EvaluationReport.From(source, description, runner.Transport, results, latencies, watch.Elapsed.TotalSeconds);
            Print(report);
            if (jsonPath is not null)
            {
                AtomicFile.WriteAllText(jsonPath, report.ToJson());
                AnsiConsole.MarkupLineInterpolated($"Report: {jsonPath}");
            }
            if (results.Count < settings.Episodes)
            {
                AnsiConsole.MarkupLineInterpolated($"Interrupted after {results.Count} of {settings.Episodes} episodes; the report covers those.");
                return ExitCodes.Interrupted;
            }
            return ExitCodes.Done;
        }
        catch (TimeoutException e) when (settings.Connect is not null)
        {
            throw new TimeoutException($"--connect '{settings.Connect}': {e.Message}", e);
        }
        finally
        {
            chunkPolicy?.Dispose();
            loaded?.Dispose();
            NetMQConfig.Cleanup(block: false);
        }
    }

    static IEpisodeRunner Connect(Settings settings, DiffusionChunkPolicy? policy)
    {
        if (settings.Connect is { } endpoint)
        {
            try
            {
                return ZeroMqEpisodes.Remote(endpoint);
            }
            catch (Exception e) when (e is NetMQException or ArgumentException)
            {
                throw new CliInputException("--connect", $"cannot connect to '{endpoint}': {e.Message}", e);
            }
        }
        return settings.Transport == EvalTransport.Direct
            ? new DirectEpisodes(policy!)
            : ZeroMqEpisodes.Serving(policy!, tcp: settings.Transport == EvalTransport.Tcp);
    }

    static void Print(EvaluationReport report)
    {
        static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        var table = new Table().AddColumn("metric").AddColumn("value");
        table.AddRow("episodes", report.Episodes.ToString(CultureInfo.InvariantCulture));
        table.AddRow("score (mean max reward)", F(report.Score, "F3"));
        table.AddRow("success rate", F(report.SuccessRate, "P0"));
        table.AddRow("seconds per action", F(report.SecondsPerAction, "F4"));
        table.AddRow("chunk latency p50 / p90 / p99 / max (ms)",
            $"{F(report.ChunkLatencyMs.P50, "F0")} / {F(report.ChunkLatencyMs.P90, "F0")} / {F(report.ChunkLatencyMs.P99, "F0")} / {F(report.ChunkLatencyMs.Max, "F0")}");
        table.AddRow("parallel iterations per chunk (mean)", F(report.MeanIterations, "F1"));
        table.AddRow("sampler", Markup.Escape(report.Sampler));
        table.AddRow("wall time (s)", F(report.WallSeconds, "F0"));
        AnsiConsole.Write(table);
    }
}
