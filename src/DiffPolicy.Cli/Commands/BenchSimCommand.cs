using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffPolicy.Sim.PushT.Task;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy bench sim</c>: PushT physics substeps per second on one thread.</summary>
internal static class BenchSimCommand
{
    public static Command Create()
    {
        var rounds = new Option<int>("--rounds")
        {
            Description = $"Passes over the fixed scenario set ({SimBenchmark.Scenarios} seeded resets × {SimBenchmark.StepsPerScenario} pushing steps × 10 substeps) per timed run.",
            DefaultValueFactory = _ => 20,
        };
        var repeats = new Option<int>("--repeats")
        {
            Description = "Timed runs; the best is reported (the machine is shared).",
            DefaultValueFactory = _ => 5,
        };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the result as JSON to this file." };
        var command = new Command("sim", "Simulator throughput: physics substeps per second, single thread, on a fixed scenario set.")
        {
            rounds,
            repeats,
            json,
        };
        command.SetAction(parse =>
        {
            var roundCount = parse.GetValue(rounds);
            var repeatCount = parse.GetValue(repeats);
            if (roundCount < 1 || repeatCount < 1)
            {
                Console.Error.WriteLine("bench sim: --rounds and --repeats must be at least 1");
                return 2;
            }
            SimBenchmark.Run(1); // warm-up: JIT and tiered compilation
            var runs = new List<SimBenchmarkResult>();
            for (var i = 0; i < repeatCount; i++)
            {
                runs.Add(SimBenchmark.Run(roundCount));
            }
            var best = runs.MaxBy(r => r.SubstepsPerSecond)!;
            var median = runs.Select(r => r.SubstepsPerSecond).Order().ElementAt(runs.Count / 2);
            var table = new Table().AddColumn("metric").AddColumn("value");
            table.AddRow("substeps per run", best.Substeps.ToString("N0", CultureInfo.InvariantCulture));
            table.AddRow("substeps/s (best)", best.SubstepsPerSecond.ToString("N0", CultureInfo.InvariantCulture));
            table.AddRow("substeps/s (median)", median.ToString("N0", CultureInfo.InvariantCulture));
            table.AddRow("substeps with contacts", best.ContactFraction.ToString("P0", CultureInfo.InvariantCulture));
            table.AddRow("processors", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            if (parse.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(new
                {
                    benchmark = "sim",
                    substeps_per_run = best.Substeps,
                    substeps_per_second_best = best.SubstepsPerSecond,
                    substeps_per_second_median = median,
                    contact_fraction = best.ContactFraction,
                    runs = runs.Select(r => r.SubstepsPerSecond).ToArray(),
                    processors = Environment.ProcessorCount,
                    machine = Environment.MachineName,
                }));
            }
            return 0;
        });
        return command;
    }
}
