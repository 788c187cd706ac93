using System.CommandLine;
using System.Globalization;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Expert;
using DiffPolicy.Sim.PushT.Rendering;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy pusht render</c>: a seed's reset as a PNG, and optionally the expert's episode as a GIF.</summary>
internal sealed class PushtRenderCommand : VerbCommand<PushtRenderCommand.Settings>
{
    public sealed record Settings(long Seed = 100_000, string? Png = null, string? Video = null, int Size = 512, int MaxSteps = 300);

    public const int MinSize = 16, MaxSize = 4096, MaxControlSteps = 100_000;

    readonly Option<long> seed = CliOptions.Long("--seed", "Reset seed.", 100_000, 0, PushTOptions.MaxSeed);
    readonly Option<FileInfo?> png = CliOptions.OutputFile("--png", "Write the reset state as a PNG.");
    readonly Option<FileInfo?> video = CliOptions.OutputFile("--video", "Run the scripted expert from the reset and write the episode as an animated GIF.");
    readonly Option<int> size = CliOptions.Int("--size", "Image size in pixels.", 512, MinSize, MaxSize);
    readonly Option<int> maxSteps = CliOptions.Int("--max-steps", "Control steps at most for --video.", 300, 1, MaxControlSteps);

    public PushtRenderCommand()
        : base("render", "Render a seeded PushT reset (PNG) and the scripted expert's episode from it (GIF).")
    {
        Add(seed, png, video, size, maxSteps);
    }

    public override Settings Bind(ParseResult parse) =>
        new(parse.GetValue(seed), parse.GetValue(png)?.FullName, parse.GetValue(video)?.FullName, parse.GetValue(size), parse.GetValue(maxSteps));

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Png is null && settings.Video is null) throw new CliInputException("--png", "give --png and/or --video.");
        var pngPath = OutputPaths.File("--png", settings.Png is null ? null : new FileInfo(settings.Png));
        var videoPath = OutputPaths.File("--video", settings.Video is null ? null : new FileInfo(settings.Video));
        if (pngPath is not null)
        {
            FrameFile.SavePng(new PushTEnv(settings.Seed), null, settings.Size, pngPath);
            AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(pngPath)}[/]");
        }
        if (videoPath is not null)
        {
            var frames = new EpisodeVideo(settings.Size);
            var expert = new PushExpert();
            var episode = Episode.Run(settings.Seed, expert.Act, settings.MaxSteps, frames.Add);
            frames.Save(videoPath);
            AnsiConsole.MarkupLine(
                $"wrote [bold]{Markup.Escape(videoPath)}[/]: {frames.Frames} frames, " +
                $"{(episode.Success ? "success" : "no success")} after {episode.Steps.Count.ToString(CultureInfo.InvariantCulture)} steps, " +
                $"max coverage {episode.Steps.Max(st => st.Result.Coverage).ToString("F3", CultureInfo.InvariantCulture)}");
        }
        return ExitCodes.Done;
    }
}
