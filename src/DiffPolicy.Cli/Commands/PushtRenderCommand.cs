using System.CommandLine;
using System.Globalization;
using DiffPolicy.Sim.PushT.Expert;
using DiffPolicy.Sim.PushT.Rendering;
using DiffPolicy.Sim.PushT.Task;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy pusht render</c>: a seed's reset as a PNG, and optionally the expert's episode as a GIF.</summary>
internal static class PushtRenderCommand
{
    public static Command Create()
    {
        var seed = new Option<long>("--seed") { Description = "Reset seed.", DefaultValueFactory = _ => 100000 };
        var png = new Option<FileInfo?>("--png") { Description = "Write the reset state as a PNG." };
        var video = new Option<FileInfo?>("--video") { Description = "Run the scripted expert from the reset and write the episode as an animated GIF." };
        var size = new Option<int>("--size") { Description = "Image size in pixels.", DefaultValueFactory = _ => 512 };
        var maxSteps = new Option<int>("--max-steps") { Description = "Control steps at most for --video.", DefaultValueFactory = _ => 300 };
        var command = new Command("render", "Render a seeded PushT reset (PNG) and the scripted expert's episode from it (GIF).")
        {
            seed,
            png,
            video,
            size,
            maxSteps,
        };
        command.SetAction(parse =>
        {
            var s = parse.GetValue(seed);
            var pixels = parse.GetValue(size);
            if (s is < 0 or > uint.MaxValue || pixels is < 16 or > 4096)
            {
                Console.Error.WriteLine("pusht render: --seed must be in [0, 2^32) and --size in [16, 4096]");
                return 2;
            }
            if (parse.GetValue(png) is null && parse.GetValue(video) is null)
            {
                Console.Error.WriteLine("pusht render: give --png and/or --video");
                return 2;
            }
            if (parse.GetValue(png) is { } pngFile)
            {
                FrameFile.SavePng(new PushTEnv(s), null, pixels, pngFile.FullName);
                AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(pngFile.FullName)}[/]");
            }
            if (parse.GetValue(video) is { } videoFile)
            {
                var frames = new EpisodeVideo(pixels);
                var expert = new PushExpert();
                var episode = Episode.Run(s, expert.Act, parse.GetValue(maxSteps), frames.Add);
                frames.Save(videoFile.FullName);
                AnsiConsole.MarkupLine(
                    $"wrote [bold]{Markup.Escape(videoFile.FullName)}[/]: {frames.Frames} frames, " +
                    $"{(episode.Success ? "success" : "no success")} after {episode.Steps.Count.ToString(CultureInfo.InvariantCulture)} steps, " +
                    $"max coverage {episode.Steps.Max(st => st.Result.Coverage).ToString("F3", CultureInfo.InvariantCulture)}");
            }
            return 0;
        });
        return command;
    }
}
