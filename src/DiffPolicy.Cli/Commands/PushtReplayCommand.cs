using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using DiffPolicy.Sim.PushT.Rendering;
using DiffPolicy.Sim.PushT.Replay;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy pusht replay</c>: run given actions from given states, in the reference trajectory format.</summary>
internal static class PushtReplayCommand
{
    public static Command Create()
    {
        var input = new Option<FileInfo>("--input")
        {
            Description = "JSON array of scenarios, each with \"initial_state\" (5 numbers) or \"seed\", and \"actions\" ([[x, y], …]).",
            Required = true,
        };
        var output = new Option<FileInfo?>("--output")
        {
            Description = "Where to write the scenarios with \"initial_state\", \"states\" and \"coverage\" filled in (default: standard output).",
        };
        var video = new Option<DirectoryInfo?>("--video")
        {
            Description = "Also write each scenario as an animated GIF (scenario_<index>.gif) into this folder.",
        };
        var command = new Command("replay", "Replay action sequences on the simulator and write the trajectories (the format of reference_trajectories.json).")
        {
            input,
            output,
            video,
        };
        command.SetAction(parse =>
        {
            var inputFile = parse.GetValue(input)!;
            var outputFile = parse.GetValue(output);
            var videoFolder = parse.GetValue(video);
            try
            {
                var scenarios = ReplayFile.Load(inputFile.FullName);
                var results = new List<JsonObject>(scenarios.Count);
                var table = new Table().AddColumn("scenario").AddColumn("start").AddColumn("steps").AddColumn("final coverage").AddColumn("max coverage");
                for (var i = 0; i < scenarios.Count; i++)
                {
                    var request = ReplayFile.Parse(scenarios[i], i);
                    var clip = videoFolder is null ? null : new EpisodeVideo();
                    var result = ReplayResult.Run(request, clip is null ? null : clip.Add);
                    clip?.Save(Path.Combine(videoFolder!.FullName, $"scenario_{i}.gif"));
                    results.Add(ReplayFile.WithResult(scenarios[i], result));
                    table.AddRow(
                        i.ToString(CultureInfo.InvariantCulture),
                        request.Seed is { } seed ? $"seed {seed}" : "state",
                        request.Actions.Count.ToString(CultureInfo.InvariantCulture),
                        result.Coverage[^1].ToString("F4", CultureInfo.InvariantCulture),
                        result.Coverage.Max().ToString("F4", CultureInfo.InvariantCulture));
                }
                var json = ReplayFile.Serialize(results);
                if (outputFile is null)
                {
                    Console.Out.WriteLine(json);
                }
                else
                {
                    File.WriteAllText(outputFile.FullName, json);
                    AnsiConsole.Write(table);
                    AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(outputFile.FullName)}[/]");
                }
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
            {
                Console.Error.WriteLine($"pusht replay: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
