using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DiffPolicy.Cli.Evaluation;
using DiffPolicy.Policy;
using DiffPolicy.Control;
using NetMQ;
using DiffPolicy.Sim.PushT.Rendering;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

internal static class EvalCommand
{
    public static Command Create()
    {
        var firstSeed = new Option<long>("--seed-start") { Description = "First test seed (PushT's standard test seeds are 100000 … 100049).", DefaultValueFactory = _ => 100_000 };
        var episodes = new Option<int>("--episodes") { Description = "Episodes, one per consecutive seed.", DefaultValueFactory = _ => 50 };
        var maxSteps = new Option<int>("--max-steps") { Description = "Control steps per episode at most (stops early on success).", DefaultValueFactory = _ => 300 };
        var video = new Option<DirectoryInfo?>("--video") { Description = "Write every episode as an animated GIF (episode_<seed>.gif) into this folder." };
        var json = new Option<FileInfo?>("--json") { Description = "Write the report (summary and per-episode rows) as JSON." };
        var transport = new Option<EvalTransport>("--transport")
        {
            Description = "inproc: a policy server in this process over ZeroMQ inproc:// (default); tcp: the same over loopback TCP; direct: no sockets.",
            DefaultValueFactory = _ => EvalTransport.Inproc,
        };
        var connect = new Option<string?>("--connect") { Description = "Evaluate the policy of a running `diffpolicy serve` at this endpoint instead of loading a checkpoint." };
        var policyOptions = new PolicyOptions();

        var command = new Command("eval", "Closed-loop PushT evaluation of a policy checkpoint through the ZeroMQ path: score (mean max reward), success rate, seconds per action, chunk latency, ParaDiGMS iterations.")
        {
            firstSeed, episodes, maxSteps, video, json, transport, connect,
        };
        foreach (var option in policyOptions.All) command.Options.Add(option);

        command.SetAction(parse =>
        {
            int count = parse.GetValue(episodes), limit = parse.GetValue(maxSteps);
            long seed0 = parse.GetValue(firstSeed);
            if (count < 1 || limit < 1 || seed0 < 0)
            {
                Console.Error.WriteLine("eval: --episodes and --max-steps must be at least 1, --seed-start at least 0.");
                return 2;
            }
            string? remote = parse.GetValue(connect);
            string? directory = remote is null ? policyOptions.Directory(parse, "eval") : remote;
            if (directory is null) return 2;

            DiffusionPolicy? loaded = null;
            DiffusionChunkPolicy? chunkPolicy = null;
            string description = "the server's";
            if (remote is null)
            {
                (loaded, description) = policyOptions.Load(parse, directory);
                chunkPolicy = new DiffusionChunkPolicy(loaded);
            }
            try
            {
                using var runner = remote is not null ? ZeroMqEpisodes.Remote(remote)
                    : parse.GetValue(transport) == EvalTransport.Direct ? new DirectEpisodes(chunkPolicy!)
                    : (IEpisodeRunner)ZeroMqEpisodes.Serving(chunkPolicy!, tcp: parse.GetValue(transport) == EvalTransport.Tcp);
                var videoFolder = parse.GetValue(video);
                var results = new List<EpisodeResult>();
                var latencies = new List<double>();
                var watch = Stopwatch.StartNew();
                AnsiConsole.MarkupLineInterpolated($"Evaluating [bold]{directory}[/] on seeds {seed0} … {seed0 + count - 1} ({runner.Transport}): {description}, {TorchRuntime.Threads} threads");
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(context =>
                    {
                        var task = context.AddTask("episodes", maxValue: count);
                        for (int i = 0; i < count; i++)
                        {
                            var clip = videoFolder is null ? null : new EpisodeVideo();
                            var result = PushTEvaluation.RunEpisode(runner, seed0 + i, limit, latencies, clip);
                            clip?.Save(Path.Combine(videoFolder!.FullName, $"episode_{result.Seed}.gif"));
                            results.Add(result);
                            task.Description = string.Create(CultureInfo.InvariantCulture,
                                $"episodes: score {results.Average(r => r.Score):F3}, success {results.Count(r => r.Success)}/{results.Count}");
                            task.Increment(1);
                        }
                    });
                var report = EvaluationReport.From(directory, description, runner.Transport, results, latencies, watch.Elapsed.TotalSeconds);
                Print(report);
                if (parse.GetValue(json) is { } path)
                {
                    File.WriteAllText(path.FullName, report.ToJson());
                    AnsiConsole.MarkupLineInterpolated($"Report: {path.FullName}");
                }
                return 0;
            }
            finally
            {
                chunkPolicy?.Dispose();
                loaded?.Dispose();
                NetMQConfig.Cleanup(block: false);
            }
        });
        return command;
    }

    /// <summary>How <c>eval</c> reaches the policy it loaded.</summary>
    internal enum EvalTransport
    {
        Inproc,
        Tcp,
        Direct,
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
