using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffPolicy.Cli.Benchmarks;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using Spectre.Console;
using TorchSharp;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// <c>diffpolicy bench network</c>: milliseconds per noise-prediction call of each backend (TorchSharp, fast CPU
/// forward) at several row counts, side by side in one process, with ratios to the first backend listed.
/// </summary>
internal static class BenchNetworkCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<DirectoryInfo>("--checkpoint")
        {
            Description = "A policy checkpoint (policy.json) or a network checkpoint from `import` (unet.config.json).",
            DefaultValueFactory = _ => new DirectoryInfo(PolicyOptions.DefaultCheckpoint),
        };
        var rows = new Option<string>("--rows") { Description = "Rows per call to compare, comma-separated (a ParaDiGMS window of P steps × batch B is P·B rows).", DefaultValueFactory = _ => "1,2,5,10" };
        var backends = new Option<string>("--backends") { Description = "Backends to compare, comma-separated; ratios are to the first.", DefaultValueFactory = _ => "torch,fast" };
        var calls = new Option<int>("--calls") { Description = "Timed calls per backend and row count.", DefaultValueFactory = _ => 200 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls first.", DefaultValueFactory = _ => 20 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (the fast backend uses one thread per call).", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the inputs.", DefaultValueFactory = _ => 0 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the measurements as JSON (atomically)." };
        var command = new Command("network", "Milliseconds per noise-prediction network call, per backend and row count, ratios in one run.")
        {
            checkpoint, rows, backends, calls, warmup, threads, seed, json,
        };
        command.SetAction(parse =>
        {
            try
            {
                var settings = new Settings(parse.GetValue(checkpoint)!.FullName, ParsePositive(parse.GetValue(rows)!, "--rows"),
                    ParseBackends(parse.GetValue(backends)!), parse.GetValue(calls), parse.GetValue(warmup), parse.GetValue(threads), parse.GetValue(seed),
                    parse.GetValue(json)?.FullName);
                Run(settings);
                return 0;
            }
            catch (Exception e) when (e is IOException or FormatException or ArgumentException or UnauthorizedAccessException or InvalidDataException)
            {
                Console.Error.WriteLine($"bench network: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    /// <param name="Json">Where to write the report, or null.</param>
    internal sealed record Settings(string Checkpoint, int[] Rows, NetworkBackend[] Backends, int Calls, int Warmup, int Threads, ulong Seed, string? Json);

    /// <summary>Runs the benchmark and prints (and writes) its report.</summary>
    internal static List<NetworkMeasurement> Run(Settings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Calls < 1) throw new ArgumentException("--calls must be at least 1.");
        if (settings.Warmup < 0) throw new ArgumentException("--warmup must be non-negative.");
        if (settings.Threads < 1) throw new ArgumentException("--threads must be at least 1.");
        if (!Directory.Exists(settings.Checkpoint)) throw new DirectoryNotFoundException($"--checkpoint: no directory '{settings.Checkpoint}'.");
        TorchRuntime.SetThreads(settings.Threads);
        using var network = File.Exists(Path.Combine(settings.Checkpoint, PolicyCheckpoint.ConfigFile))
            ? PolicyCheckpoint.Load(settings.Checkpoint).Network
            : UnetCheckpoint.Load(settings.Checkpoint);
        int horizon = network.Config.Horizon ?? 16;
        var predictors = settings.Backends.Select(b => (Name: b.ToString().ToLowerInvariant(), Predictor: NoisePredictors.Create(network, b, torch.CPU))).ToList();
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
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
            table.AddRow(m.Rows.ToString(CultureInfo.InvariantCulture), m.Backend, F(m.MedianMs, "F3"), F(m.P10Ms, "F3"), F(m.P90Ms, "F3"),
                F(m.MedianCpuMs, "F3"), F(m.MinCpuMs, "F3"), F(m.Ratio, "F2"), F(m.CpuRatio, "F2"));
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 140);
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"×: {predictors[0].Name}'s median over the backend's at the same rows (higher is faster); CPU ms: the calling thread's CPU time per call (libtorch at 1 thread computes on it). Load average after: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");
        if (settings.Json is { } path)
        {
            var report = new
            {
                settings = new { checkpoint = settings.Checkpoint, network = network.Config, horizon, settings.Calls, settings.Warmup, libtorch_threads = settings.Threads, processors = Environment.ProcessorCount, load_average = load },
                measurements,
            };
            string temporary = path + ".tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            File.Move(temporary, path, overwrite: true);
        }
        return measurements;
    }

    static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    static int[] ParsePositive(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]) || values[i] < 1)
                throw new FormatException($"{option} must be a comma-separated list of positive integers, got '{text}'.");
        return values.Length > 0 ? values : throw new FormatException($"{option} is empty.");
    }

    static NetworkBackend[] ParseBackends(string text)
    {
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw new FormatException("--backends is empty.");
        var backends = names.Select(NoisePredictors.Parse).ToArray();
        if (backends.Contains(NetworkBackend.Auto)) throw new FormatException("--backends compares named backends: fast and/or torch.");
        return backends.Distinct().ToArray();
    }
}
