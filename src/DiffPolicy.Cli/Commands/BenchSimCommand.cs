using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffPolicy.Data;
using DiffPolicy.Sim.PushT.Env;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy bench sim</c>: PushT physics substeps per second on one thread.</summary>
internal sealed class BenchSimCommand : VerbCommand<BenchSimCommand.Settings>
{
    public sealed record Settings(int Rounds = 20, int Repeats = 5, string? Json = null);

    public const int MaxRounds = 100_000, MaxRepeats = 1000;

    readonly Option<int> rounds = CliOptions.Int("--rounds",
        $"Passes over the fixed scenario set ({SimBenchmark.Scenarios} seeded resets × {SimBenchmark.StepsPerScenario} pushing steps × 10 substeps) per timed run.", 20, 1, MaxRounds);
    readonly Option<int> repeats = CliOptions.Int("--repeats", "Timed runs; the best is reported (the machine is shared).", 5, 1, MaxRepeats);
    readonly Option<FileInfo?> json = CliOptions.OutputFile("--json", "Also write the result as JSON to this file.");

    public BenchSimCommand()
        : base("sim", "Simulator throughput: physics substeps per second, single thread, on a fixed scenario set.")
    {
        Add(rounds, repeats, json);
    }

    public override Settings Bind(ParseResult parse) => new(parse.GetValue(rounds), parse.GetValue(repeats), parse.GetValue(json)?.FullName);

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var jsonPath = OutputPaths.File("--json", settings.Json is null ? null : new FileInfo(settings.Json));
        SimBenchmark.Run(1); // warm-up: JIT and tiered compilation
        var runs = new List<SimBenchmarkResult>();
        for (var i = 0; i < settings.Repeats; i++)
        {
            cancel.ThrowIfCancellationRequested();
            runs.Add(SimBenchmark.Run(settings.Rounds));
        }
        var best = runs.MaxBy(r => r.SubstepsPerSecond)!;
        var median = runs.Select(r => r.SubstepsPerSecond).Order().ElementAt(runs.Count / 2);
        var table = new Table().AddColumn("metric").AddColumn("value");
        table.AddRow("substeps per run", best.Substeps.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("substeps/s (best)", best.SubstepsPerSecond.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("substeps/s (median)", median.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("substeps per CPU second (best run)", best.SubstepsPerCpuSecond.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("load average (1 min)", LoadAverage());
        table.AddRow("substeps with contacts", best.ContactFraction.ToString("P0", CultureInfo.InvariantCulture));
        table.AddRow("processors", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        if (jsonPath is not null)
        {
            AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(new
            {
                benchmark = "sim",
                substeps_per_run = best.Substeps,
                substeps_per_second_best = best.SubstepsPerSecond,
                substeps_per_second_median = median,
                substeps_per_cpu_second_best_run = best.SubstepsPerCpuSecond,
                load_average = LoadAverage(),
                contact_fraction = best.ContactFraction,
                runs = runs.Select(r => r.SubstepsPerSecond).ToArray(),
                processors = Environment.ProcessorCount,
                machine = Environment.MachineName,
            }));
        }
        return ExitCodes.Done;
    }

    /// <summary>The 1-minute load average (Linux), to judge how contended the numbers were.</summary>
    static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
}
