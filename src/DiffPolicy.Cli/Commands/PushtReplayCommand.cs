using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using DiffPolicy.Data;
using DiffPolicy.Sim.PushT.Replay;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy pusht replay</c>: run given actions from given states, in the reference trajectory format.</summary>
internal sealed class PushtReplayCommand : VerbCommand<PushtReplayCommand.Settings>
{
    public sealed record Settings(string Input, string? Output = null, string? Video = null);

    readonly Option<FileInfo> input = CliOptions.InputFile("--input",
        "JSON array of scenarios, each with \"initial_state\" (5 numbers) or \"seed\", and \"actions\" ([[x, y], …]).");
    readonly Option<FileInfo?> output = CliOptions.OutputFile("--output",
        "Where to write the scenarios with \"initial_state\", \"states\" and \"coverage\" filled in (default: standard output).");
    readonly Option<DirectoryInfo?> video = CliOptions.OutputFolder("--video", "Also write each scenario as an animated GIF (scenario_<index>.gif) into this folder.");

    public PushtReplayCommand()
        : base("replay", "Replay action sequences on the simulator and write the trajectories (the format of reference_trajectories.json).")
    {
        Add(input, output, video);
    }

    public override Settings Bind(ParseResult parse) => new(parse.GetValue(input)!.FullName, parse.GetValue(output)?.FullName, parse.GetValue(video)?.FullName);

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var outputPath = OutputPaths.File("--output", settings.Output is null ? null : new FileInfo(settings.Output));
        var videos = new VideoFolder(OutputPaths.Folder("--video", settings.Video is null ? null : new DirectoryInfo(settings.Video)));
        var (scenarios, requests) = CliErrors.Reading("--input", settings.Input, () =>
        {
            var loaded = ReplayFile.Load(settings.Input);
            return (loaded, loaded.Select(ReplayFile.Parse).ToList());
        });
        var results = new List<JsonObject>(scenarios.Count);
        var table = new Table().AddColumn("scenario").AddColumn("start").AddColumn("steps").AddColumn("final coverage").AddColumn("max coverage");
        for (var i = 0; i < scenarios.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var request = requests[i];
            var result = videos.Record($"scenario_{i}", observe => ReplayResult.Run(request, observe));
            var blownUp = result.Coverage.ToList().FindIndex(c => !double.IsFinite(c));
            if (blownUp >= 0 || result.States.Any(s => !s.ToArray().All(double.IsFinite)))
                throw new CliInputException("--input", $"scenario {i}: the simulation ran out of finite numbers (by step {Math.Max(0, blownUp)}): are its actions far outside the 512 × 512 workspace?");
            results.Add(ReplayFile.WithResult(scenarios[i], result));
            table.AddRow(
                i.ToString(CultureInfo.InvariantCulture),
                request.Seed is { } seed ? $"seed {seed}" : "state",
                request.Actions.Count.ToString(CultureInfo.InvariantCulture),
                result.Coverage[^1].ToString("F4", CultureInfo.InvariantCulture),
                result.Coverage.Max().ToString("F4", CultureInfo.InvariantCulture));
        }
        var json = ReplayFile.Serialize(results);
        if (outputPath is null)
        {
            Console.Out.WriteLine(json);
            return ExitCodes.Done;
        }
        AtomicFile.WriteAllText(outputPath, json);
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(outputPath)}[/]");
        return ExitCodes.Done;
    }
}
