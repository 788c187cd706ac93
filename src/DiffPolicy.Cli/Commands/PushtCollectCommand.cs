using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DiffPolicy.Sim.PushT.Expert;
using DiffPolicy.Sim.PushT.Rendering;
using DiffPolicy.Sim.PushT.Task;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy pusht collect</c>: scripted-expert demonstrations as a DiffusionPolicy-style .npz.</summary>
internal static class PushtCollectCommand
{
    public static Command Create()
    {
        var episodes = new Option<int>("--episodes") { Description = "Episodes to run, one per seed.", DefaultValueFactory = _ => 200 };
        var seedStart = new Option<long>("--seed-start") { Description = "Seed of the first episode (then +1 per episode).", DefaultValueFactory = _ => 0 };
        var output = new Option<FileInfo>("--out") { Description = "The .npz to write (successful episodes only).", Required = true };
        var maxSteps = new Option<int>("--max-steps") { Description = "Control steps per episode at most.", DefaultValueFactory = _ => 300 };
        var images = new Option<bool>("--images") { Description = "Also store each step's 96×96 RGB image observation as \"img\" (uint8)." };
        var video = new Option<DirectoryInfo?>("--video") { Description = "Write the first episodes as animated GIFs (episode_<seed>.gif) into this folder." };
        var videoEpisodes = new Option<int>("--video-episodes") { Description = "How many episodes --video writes.", DefaultValueFactory = _ => 3 };
        var command = new Command("collect", "Run the scripted expert from seeded resets and save its successful episodes as demonstrations (.npz: state, keypoint, action, episode_ends).")
        {
            episodes,
            seedStart,
            output,
            maxSteps,
            images,
            video,
            videoEpisodes,
        };
        command.SetAction(parse =>
        {
            var count = parse.GetValue(episodes);
            var first = parse.GetValue(seedStart);
            var limit = parse.GetValue(maxSteps);
            if (count < 1 || limit < 1 || first < 0 || first + count - 1 > uint.MaxValue)
            {
                Console.Error.WriteLine("pusht collect: --episodes and --max-steps must be at least 1 and the seeds within [0, 2^32)");
                return 2;
            }
            var withImages = parse.GetValue(images);
            var videoFolder = parse.GetValue(video);
            var videoCount = parse.GetValue(videoEpisodes);
            var dataset = new DemonstrationSet();
            var results = new List<Episode>(count);
            var watch = Stopwatch.StartNew();
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask("expert episodes", maxValue: count);
                    for (var i = 0; i < count; i++)
                    {
                        var expert = new PushExpert();
                        var frames = withImages ? new List<byte[]>() : null;
                        var clip = videoFolder is not null && i < videoCount ? new EpisodeVideo() : null;
                        var episode = Episode.Run(
                            first + i,
                            env =>
                            {
                                frames?.Add(SceneRenderer.Observation(env));
                                return expert.Act(env);
                            },
                            limit,
                            clip is null ? null : clip.Add);
                        results.Add(episode);
                        if (episode.Success)
                        {
                            dataset.Add(episode, frames);
                        }
                        clip?.Save(Path.Combine(videoFolder!.FullName, $"episode_{episode.Seed}.gif"));
                        var successes = results.Count(r => r.Success);
                        task.Description = $"expert episodes (success {successes}/{results.Count})";
                        task.Increment(1);
                    }
                });
            watch.Stop();
            if (videoFolder is not null && videoCount > 0)
            {
                AnsiConsole.MarkupLine($"videos of the first {Math.Min(videoCount, count)} episodes in [bold]{Markup.Escape(videoFolder.FullName)}[/]");
            }
            if (dataset.Episodes > 0)
            {
                dataset.Save(parse.GetValue(output)!.FullName);
            }
            var table = new Table().AddColumn("metric").AddColumn("value");
            table.AddRow("seeds", $"{first} … {first + count - 1}");
            table.AddRow("success rate (coverage > 0.95)", (results.Count(r => r.Success) / (double)count).ToString("P1", CultureInfo.InvariantCulture));
            table.AddRow("mean score (max reward)", results.Average(r => r.MaxReward).ToString("F3", CultureInfo.InvariantCulture));
            table.AddRow("steps per successful episode (mean)", results.Where(r => r.Success).Select(r => (double)r.Steps.Count).DefaultIfEmpty(0).Average().ToString("F1", CultureInfo.InvariantCulture));
            table.AddRow("seconds per episode", (watch.Elapsed.TotalSeconds / count).ToString("F2", CultureInfo.InvariantCulture));
            table.AddRow("total seconds", watch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture));
            table.AddRow("saved", dataset.Episodes > 0 ? $"{dataset.Episodes} episodes, {dataset.Steps} steps → {Markup.Escape(parse.GetValue(output)!.FullName)}" : "nothing (no successful episode)");
            var failed = results.Where(r => !r.Success).Select(r => r.Seed.ToString(CultureInfo.InvariantCulture)).ToArray();
            if (failed.Length > 0)
            {
                table.AddRow("failed seeds", string.Join(" ", failed));
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
