using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Expert;
using DiffPolicy.Sim.PushT.Rendering;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy pusht collect</c>: scripted-expert demonstrations as a DiffusionPolicy-style .npz.</summary>
internal sealed class PushtCollectCommand : VerbCommand<PushtCollectCommand.Settings>
{
    public sealed record Settings(string Out, int Episodes = 200, long SeedStart = 0, int MaxSteps = 300, bool Images = false, string? Video = null, int VideoEpisodes = 3);

    public const int MaxEpisodes = 100_000, MaxControlSteps = 100_000;

    readonly Option<int> episodes = CliOptions.Int("--episodes", "Episodes to run, one per seed.", 200, 1, MaxEpisodes);
    readonly Option<long> seedStart = PushTOptions.SeedStart(0, "Seed of the first episode (then +1 per episode).");
    readonly Option<FileInfo?> output = CliOptions.OutputFile("--out", "The .npz to write (successful episodes only).", required: true);
    readonly Option<int> maxSteps = CliOptions.Int("--max-steps", "Control steps per episode at most.", 300, 1, MaxControlSteps);
    readonly Option<bool> images = new("--images") { Description = "Also store each step's 96×96 RGB image observation as \"img\" (uint8)." };
    readonly Option<DirectoryInfo?> video = CliOptions.OutputFolder("--video", "Write the first episodes as animated GIFs (episode_<seed>.gif) into this folder.");
    readonly Option<int> videoEpisodes = CliOptions.Int("--video-episodes", "How many episodes --video writes.", 3, 0, MaxEpisodes);

    public PushtCollectCommand()
        : base("collect", "Run the scripted expert from seeded resets and save its successful episodes as demonstrations (.npz: state, keypoint, action, episode_ends). Exits 1 when no episode succeeds (nothing is written).")
    {
        Add(episodes, seedStart, output, maxSteps, images, video, videoEpisodes);
    }

    public override Settings Bind(ParseResult parse) => new(
        parse.GetValue(output)!.FullName, parse.GetValue(episodes), parse.GetValue(seedStart), parse.GetValue(maxSteps), parse.GetValue(images),
        parse.GetValue(video)?.FullName, parse.GetValue(videoEpisodes));

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        PushTOptions.CheckSeeds(settings.SeedStart, settings.Episodes);
        var outPath = OutputPaths.File("--out", new FileInfo(settings.Out))!;
        var videos = new VideoFolder(OutputPaths.Folder("--video", settings.Video is null ? null : new DirectoryInfo(settings.Video)), settings.VideoEpisodes);
        var dataset = new DemonstrationSet();
        var results = new List<Episode>(settings.Episodes);
        var watch = Stopwatch.StartNew();
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("expert episodes", maxValue: settings.Episodes);
                for (var i = 0; i < settings.Episodes && !cancel.IsCancellationRequested; i++)
                {
                    var expert = new PushExpert();
                    var frames = settings.Images ? new List<byte[]>() : null;
                    var seed = settings.SeedStart + i;
                    var episode = videos.Record($"episode_{seed}", observe => Episode.Run(
                        seed,
                        env =>
                        {
                            frames?.Add(SceneRenderer.Observation(env));
                            return expert.Act(env);
                        },
                        settings.MaxSteps,
                        observe));
                    results.Add(episode);
                    if (episode.Success) dataset.Add(episode, frames);
                    task.Description = $"expert episodes (success {results.Count(r => r.Success)}/{results.Count})";
                    task.Increment(1);
                }
            });
        watch.Stop();
        if (settings.Video is not null && settings.VideoEpisodes > 0)
            AnsiConsole.MarkupLine($"videos of the first {Math.Min(settings.VideoEpisodes, results.Count)} episodes in [bold]{Markup.Escape(settings.Video)}[/]");
        if (dataset.Episodes > 0) dataset.Save(outPath);
        Print(settings, results, dataset, outPath, watch.Elapsed);
        if (results.Count < settings.Episodes) return ExitCodes.Interrupted;
        if (dataset.Episodes == 0) throw new InvalidOperationException($"no episode succeeded in {results.Count}: nothing written to '{outPath}'.");
        return ExitCodes.Done;
    }

    static void Print(Settings settings, List<Episode> results, DemonstrationSet dataset, string outPath, TimeSpan elapsed)
    {
        var count = Math.Max(1, results.Count);
        var table = new Table().AddColumn("metric").AddColumn("value");
        table.AddRow("seeds", $"{settings.SeedStart} … {settings.SeedStart + results.Count - 1}");
        table.AddRow("success rate (coverage > 0.95)", (results.Count(r => r.Success) / (double)count).ToString("P1", CultureInfo.InvariantCulture));
        table.AddRow("mean score (max reward)", results.Select(r => r.MaxReward).DefaultIfEmpty(0).Average().ToString("F3", CultureInfo.InvariantCulture));
        table.AddRow("steps per successful episode (mean)", results.Where(r => r.Success).Select(r => (double)r.Steps.Count).DefaultIfEmpty(0).Average().ToString("F1", CultureInfo.InvariantCulture));
        table.AddRow("seconds per episode", (elapsed.TotalSeconds / count).ToString("F2", CultureInfo.InvariantCulture));
        table.AddRow("total seconds", elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture));
        table.AddRow("saved", dataset.Episodes > 0 ? $"{dataset.Episodes} episodes, {dataset.Steps} steps → {Markup.Escape(outPath)}" : "nothing (no successful episode)");
        var failed = results.Where(r => !r.Success).Select(r => r.Seed.ToString(CultureInfo.InvariantCulture)).ToArray();
        if (failed.Length > 0) table.AddRow("failed seeds", string.Join(" ", failed));
        AnsiConsole.Write(table);
    }
}
