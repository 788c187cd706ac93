using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffPolicy.Cli.Benchmarks;
using DiffPolicy.Data;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Network;
using Spectre.Console;
using TorchSharp;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// <c>diffpolicy bench network</c>: milliseconds per noise-prediction call of each backend (TorchSharp, fast CPU
/// forward) at several row counts, side by side in one process, with ratios to the first backend listed.
/// </summary>
internal sealed class BenchNetworkCommand : VerbCommand<BenchNetworkCommand.Settings>
{
    /// <param name="Json">Where to write the report, or null.</param>
    public sealed record Settings(string Checkpoint, int[] Rows, NetworkBackend[] Backends, int Calls = 200, int Warmup = 20, int Threads = 1, ulong Seed = 0, string? Json = null);

    public const int MaxRows = 10_000, MaxCalls = 1_000_000;

    readonly Option<DirectoryInfo> checkpoint = CliOptions.Checkpoint("A policy checkpoint (policy.json) or a network checkpoint from `import` (unet.config.json).");
    readonly Option<int[]> rows = CliOptions.IntList("--rows", "Rows per call to compare, comma-separated (a ParaDiGMS window of P steps × batch B is P·B rows).", "1,2,5,10", 1, MaxRows);
    readonly Option<NetworkBackend[]> backends = CliOptions.ChoiceList("--backends", "Backends to compare, comma-separated (fast and/or torch); ratios are to the first.", NetworkBackend.Torch, NetworkBackend.Fast);
    readonly Option<int> calls = CliOptions.Int("--calls", "Timed calls per backend and row count.", 200, 1, MaxCalls);
    readonly Option<int> warmup = CliOptions.Int("--warmup", "Untimed calls first.", 20, 0, MaxCalls);
    readonly Option<int> threads = CliOptions.Int("--threads", "libtorch intra-op threads (the fast backend uses one thread per call).", 1, 1, CliOptions.MaxThreads);
    readonly Option<ulong> seed = CliOptions.ULong("--seed", "Seed of the inputs.", 0, long.MaxValue);
    readonly Option<FileInfo?> json = CliOptions.OutputFile("--json", "Also write the measurements as JSON.");

    public BenchNetworkCommand()
        : base("network", "Milliseconds per noise-prediction network call, per backend and row count, ratios in one run.")
    {
        Add(checkpoint, rows, backends, calls, warmup, threads, seed, json);
    }

    public override Settings Bind(ParseResult parse) => new(
        parse.GetValue(checkpoint)!.FullName, parse.GetValue(rows)!, parse.GetValue(backends)!, parse.GetValue(calls), parse.GetValue(warmup),
        parse.GetValue(threads), parse.GetValue(seed), parse.GetValue(json)?.FullName);

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Backends.Contains(NetworkBackend.Auto)) throw new CliInputException("--backends", "compares named backends: fast and/or torch, not auto.");
        var jsonPath = OutputPaths.File("--json", settings.Json is null ? null : new FileInfo(settings.Json));
        TorchRuntime.SetThreads(settings.Threads);
        using var network = PolicyOptions.LoadNetwork(settings.Checkpoint);
        var horizon = network.Config.Horizon ?? 16;
        var predictors = settings.Backends.Select(b => (Name: b.ToString().ToLowerInvariant(), Predictor: NoisePredictors.Create(network, b, torch.CPU))).ToList();
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]bench network[/]: {settings.Checkpoint}, down_dims [[{string.Join(",", network.Config.DownDims)}]], horizon {horizon}, {settings.Calls} calls (+{settings.Warmup} warm-up), libtorch threads {settings.Threads}");
        AnsiConsole.MarkupLineInterpolated($"machine: {Environment.ProcessorCount} processors, load average {load}");
        List<NetworkMeasurement> measurements;
        try
        {
            measurements = NetworkBenchmark.Run(predictors, settings.Rows, horizon, settings.Calls, settings.Warmup, settings.Seed);
        }
        finally
        {
            foreach (var (_, predictor) in predictors)
                if (!ReferenceEquals(predictor, network)) (predictor as IDisposable)?.Dispose();
        }

        var table = new Table().AddColumn("rows").AddColumn("backend").AddColumn("median ms").AddColumn("p10 ms").AddColumn("p90 ms")
            .AddColumn("CPU ms median").AddColumn("CPU ms min").AddColumn($"× {predictors[0].Name}").AddColumn($"CPU × {predictors[0].Name}");
        foreach (var m in measurements)
        {
            table.AddRow(m.Rows.ToString(CultureInfo.InvariantCulture), m.Backend, F(m.MedianMs, "F3"), F(m.P10Ms, "F3"), F(m.P90Ms, "F3"),
                F(m.MedianCpuMs, "F3"), F(m.MinCpuMs, "F3"), F(m.Ratio, "F2"), F(m.CpuRatio, "F2"));
        }

        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 140);
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"×: {predictors[0].Name}'s median over the backend's at the same rows (higher is faster); CPU ms: the calling thread's CPU time per call (libtorch at 1 thread computes on it). Load average after: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");
        if (jsonPath is not null)
        {
            var report = new
            {
                settings = new { checkpoint = settings.Checkpoint, network = network.Config, horizon, settings.Calls, settings.Warmup, libtorch_threads = settings.Threads, processors = Environment.ProcessorCount, load_average = load },
                measurements,
            };
            AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        }
        return ExitCodes.Done;
    }

    static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
