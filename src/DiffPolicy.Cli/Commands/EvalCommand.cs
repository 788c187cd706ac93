using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DiffPolicy.Cli.Evaluation;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Sim.PushT.Rendering;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

internal static class EvalCommand
{
    public const string DefaultCheckpoint = "checkpoints/pusht";

    public static Command Create()
    {
        var checkpoint = new Option<DirectoryInfo>("--checkpoint")
        {
            Description = "Policy checkpoint directory (policy.json, unet.safetensors, normalizer.safetensors).",
            DefaultValueFactory = _ => new DirectoryInfo(DefaultCheckpoint),
        };
        var firstSeed = new Option<long>("--seed-start") { Description = "First test seed (PushT's standard test seeds are 100000 … 100049).", DefaultValueFactory = _ => 100_000 };
        var episodes = new Option<int>("--episodes") { Description = "Episodes, one per consecutive seed.", DefaultValueFactory = _ => 50 };
        var maxSteps = new Option<int>("--max-steps") { Description = "Control steps per episode at most (stops early on success).", DefaultValueFactory = _ => 300 };
        var video = new Option<DirectoryInfo?>("--video") { Description = "Write every episode as an animated GIF (episode_<seed>.gif) into this folder." };
        var json = new Option<FileInfo?>("--json") { Description = "Write the report (summary and per-episode rows) as JSON." };
        var sampling = new SamplingOptions();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();

        var command = new Command("eval", "Closed-loop PushT evaluation of a policy checkpoint: score (mean max reward), success rate, seconds per action, chunk latency, ParaDiGMS iterations.")
        {
            checkpoint, firstSeed, episodes, maxSteps, video, json, device, threads,
        };
        foreach (var option in sampling.All) command.Options.Add(option);

        command.SetAction(parse =>
        {
            string directory = parse.GetValue(checkpoint)!.FullName;
            if (!Directory.Exists(directory) && !Directory.Exists(directory + ".old"))
            {
                Console.Error.WriteLine($"eval: no checkpoint at '{directory}'. Run from the repository root, or pass --checkpoint DIR.");
                return 2;
            }
            int count = parse.GetValue(episodes), limit = parse.GetValue(maxSteps);
            if (count < 1 || limit < 1)
            {
                Console.Error.WriteLine("eval: --episodes and --max-steps must be at least 1.");
                return 2;
            }
            TorchRuntime.SetThreads(parse.GetValue(threads));
            var stored = PolicyConfig.Load(Path.Combine(AtomicDirectory.Resolve(directory), PolicyCheckpoint.ConfigFile));
            var (scheduler, sampler) = sampling.Resolve(parse, stored);
            using var policy = DiffusionPolicy.Load(directory, TorchRuntime.ResolveDevice(parse.GetValue(device)!), scheduler, sampler);
            string description = SamplingOptions.Describe(scheduler, sampler);
            var videoFolder = parse.GetValue(video);
            long seed0 = parse.GetValue(firstSeed);

            var results = new List<EpisodeResult>();
            var latencies = new List<double>();
            var watch = Stopwatch.StartNew();
            AnsiConsole.MarkupLineInterpolated($"Evaluating [bold]{directory}[/] on seeds {seed0} … {seed0 + count - 1}: {description}, {TorchRuntime.Threads} threads");
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask("episodes", maxValue: count);
                    for (int i = 0; i < count; i++)
                    {
                        var clip = videoFolder is null ? null : new EpisodeVideo();
                        var result = PushTEvaluation.RunEpisode(policy, seed0 + i, limit, latencies, clip);
                        clip?.Save(Path.Combine(videoFolder!.FullName, $"episode_{result.Seed}.gif"));
                        results.Add(result);
                        task.Description = string.Create(CultureInfo.InvariantCulture,
                            $"episodes: score {results.Average(r => r.Score):F3}, success {results.Count(r => r.Success)}/{results.Count}");
                        task.Increment(1);
                    }
                });
            var report = EvaluationReport.From(directory, description, "in-process", results, latencies, watch.Elapsed.TotalSeconds);
            Print(report);
            if (parse.GetValue(json) is { } path)
            {
                File.WriteAllText(path.FullName, report.ToJson());
                AnsiConsole.MarkupLineInterpolated($"Report: {path.FullName}");
            }
            return 0;
        });
        return command;
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
