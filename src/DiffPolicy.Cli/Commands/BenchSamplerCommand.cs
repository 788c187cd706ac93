using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffPolicy.Cli.Benchmarks;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Sampling;
using DiffPolicy.Policy.Schedulers;
using Spectre.Console;
using TorchSharp;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// <c>diffpolicy bench sampler</c>: sequential vs ParaDiGMS chunk latency for DDPM, DDIM and
/// DPM-Solver++ on the same noise, per thread count.
/// </summary>
internal static class BenchSamplerCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<DirectoryInfo?>("--checkpoint") { Description = "A policy checkpoint (policy.json, e.g. checkpoints/pusht) or a network checkpoint from `import` (unet.config.json); random weights of the configuration below when absent." };
        var downDims = new Option<string>("--down-dims") { Description = "U-Net channels per level (random weights).", DefaultValueFactory = _ => "64,128,256" };
        var stepEmbed = new Option<int>("--step-embed") { Description = "Diffusion-step embedding size (random weights).", DefaultValueFactory = _ => 128 };
        var kernel = new Option<int>("--kernel") { Description = "Convolution kernel size (random weights).", DefaultValueFactory = _ => 5 };
        var globalCond = new Option<int>("--global-cond") { Description = "global_cond size, n_obs_steps × obs_dim (random weights; PushT keypoints: 2 × 18).", DefaultValueFactory = _ => 36 };
        var horizon = new Option<int>("--horizon") { Description = "Trajectory length.", DefaultValueFactory = _ => 16 };
        var actionDim = new Option<int>("--action-dim") { Description = "Action dimension (random weights).", DefaultValueFactory = _ => 2 };
        var batch = new Option<int>("--batch") { Description = "Samples per chunk.", DefaultValueFactory = _ => 1 };
        var chunks = new Option<int>("--chunks") { Description = "Timed chunks per variant.", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed chunks first.", DefaultValueFactory = _ => 2 };
        var windows = new Option<string>("--window") { Description = "ParaDiGMS windows P to compare, comma-separated.", DefaultValueFactory = _ => "8,12,16" };
        var tolerance = new Option<double>("--tolerance") { Description = "ParaDiGMS tolerance τ.", DefaultValueFactory = _ => 0.1 };
        var starts = new Option<string>("--start")
        {
            Description = "ParaDiGMS initial guesses to compare, comma-separated: warm (roll-out with the newest model output) and/or cold (copies of the last latent, the paper's).",
            DefaultValueFactory = _ => "warm,cold",
        };
        var workers = new Option<string>("--workers") { Description = "ParaDiGMS worker threads per window to compare, comma-separated.", DefaultValueFactory = _ => "1,2" };
        var threads = new Option<string>("--threads") { Description = "libtorch intra-op thread counts to compare, comma-separated.", DefaultValueFactory = _ => "1,2" };
        var ddpmSteps = new Option<int>("--ddpm-steps") { Description = "DDPM steps (0 skips).", DefaultValueFactory = _ => 100 };
        var ddimSteps = new Option<int>("--ddim-steps") { Description = "DDIM steps (0 skips).", DefaultValueFactory = _ => 100 };
        var dpmSteps = new Option<int>("--dpm-steps") { Description = "DPM-Solver++ 2M steps (0 skips).", DefaultValueFactory = _ => 50 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of weights, conditioning and noise.", DefaultValueFactory = _ => 0 };
        var observations = new Option<FileInfo?>("--observations")
        {
            Description = "Recorded episodes (.npz in the training format, e.g. data/pusht_expert_250.npz from `pusht collect`): each chunk is conditioned on n_obs_steps consecutive observations of one episode, normalised as the policy checkpoint does (needs a policy --checkpoint). Default: N(0, I) conditioning.",
        };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the measurements as JSON." };
        var backend = new Option<string>("--backend")
        {
            Description = "Network implementations to compare, comma-separated: fast (fused CPU forward), torch (TorchSharp) or auto (fast on a CPU).",
            DefaultValueFactory = _ => "auto",
        };

        var command = new Command("sampler", "Chunk latency of sequential 100-step DDPM vs ParaDiGMS (and DDIM / DPM-Solver++), side by side on the same noise.")
        {
            checkpoint, downDims, stepEmbed, kernel, globalCond, horizon, actionDim, batch, chunks, warmup, windows, tolerance, starts, workers, threads,
            ddpmSteps, ddimSteps, dpmSteps, seed, observations, json, backend,
        };
        command.SetAction(parse =>
        {
            try
            {
                torch.manual_seed((long)parse.GetValue(seed));
                RecordedConditions? recorded = null;
                var recording = parse.GetValue(observations);
                if (recording is not null && parse.GetValue(checkpoint) is null)
                    throw new ArgumentException("--observations needs a policy --checkpoint (policy.json): its normaliser and n_obs_steps turn observations into global_cond.");
                using var network = parse.GetValue(checkpoint) is { } dir
                    ? LoadNetwork(dir.FullName, recording, out recorded)
                    : RandomNetwork(new ConditionalUnet1DConfig
                    {
                        InputDim = parse.GetValue(actionDim),
                        GlobalCondDim = parse.GetValue(globalCond),
                        DiffusionStepEmbedDim = parse.GetValue(stepEmbed),
                        DownDims = ParseList(parse.GetValue(downDims)!, "--down-dims"),
                        KernelSize = parse.GetValue(kernel),
                        CondPredictScale = true,
                        Horizon = parse.GetValue(horizon),
                    });
                var settings = new Settings(
                    parse.GetValue(checkpoint) is null ? "random weights" : parse.GetValue(checkpoint)!.FullName,
                    network.Config.Horizon ?? parse.GetValue(horizon), parse.GetValue(batch), parse.GetValue(chunks), parse.GetValue(warmup),
                    ParseList(parse.GetValue(windows)!, "--window"), parse.GetValue(tolerance), ParseStarts(parse.GetValue(starts)!), ParseList(parse.GetValue(workers)!, "--workers"),
                    ParseList(parse.GetValue(threads)!, "--threads"),
                    [("DDPM", parse.GetValue(ddpmSteps)), ("DDIM", parse.GetValue(ddimSteps)), ("DPM++2M", parse.GetValue(dpmSteps))],
                    parse.GetValue(seed), recording?.FullName,
                    parse.GetValue(backend)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(NoisePredictors.Parse).Distinct().ToArray());
                if (settings.Backends.Length == 0) throw new ArgumentException("--backend is empty.");
                var predictors = settings.Backends.Select(b => NoisePredictors.Create(network, b, torch.CPU)).ToList();
                List<SamplerMeasurement> measurements;
                try
                {
                    measurements = Run(network, predictors.Select(p => (p is ConditionalUnet1D ? "torch" : "fast", p)).ToList(), settings, recorded);
                }
                finally
                {
                    foreach (var predictor in predictors)
                        if (!ReferenceEquals(predictor, network)) (predictor as IDisposable)?.Dispose();
                }
                if (parse.GetValue(json) is { } file)
                    File.WriteAllText(file.FullName, JsonSerializer.Serialize(new { settings = settings.Describe(network), measurements }, JsonOptions));
                return 0;
            }
            catch (Exception e) when (e is IOException or FormatException or ArgumentException or UnauthorizedAccessException or InvalidDataException or KeyNotFoundException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]bench sampler failed:[/] {e.Message}");
                return 1;
            }
        });
        return command;
    }

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    sealed record Settings(
        string Weights, int Horizon, int Batch, int Chunks, int Warmup, int[] Windows, double Tolerance, bool[] WarmStarts, int[] Workers, int[] Threads,
        (string Name, int Steps)[] Schedulers, ulong Seed, string? Observations, NetworkBackend[] Backends)
    {
        public object Describe(ConditionalUnet1D network) => new
        {
            weights = Weights,
            network = network.Config,
            parameters = network.parameters().Sum(p => p.numel()),
            horizon = Horizon,
            batch = Batch,
            chunks = Chunks,
            warmup = Warmup,
            windows = Windows,
            tolerance = Tolerance,
            starts = WarmStarts.Select(w => w ? "warm" : "cold"),
            workers = Workers,
            threads = Threads,
            schedulers = Schedulers.Select(s => new { s.Name, s.Steps }),
            seed = Seed,
            backends = Backends.Select(b => b.ToString().ToLowerInvariant()),
            conditioning = Observations is null ? "N(0, I)" : $"recorded observations: {Observations}",
            processors = Environment.ProcessorCount,
            load_average = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a",
        };
    }

    static List<SamplerMeasurement> Run(ConditionalUnet1D network, List<(string Name, INoisePredictor Predictor)> predictors, Settings settings, RecordedConditions? recorded)
    {
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]bench sampler[/]: {settings.Weights}, down_dims [[{string.Join(",", network.Config.DownDims)}]], {network.parameters().Sum(p => p.numel()):N0} parameters, horizon {settings.Horizon}, batch {settings.Batch}, {settings.Chunks} chunks (+{settings.Warmup} warm-up), τ = {settings.Tolerance}, conditioning {settings.Observations ?? "N(0, I)"}, network backends {string.Join(", ", predictors.Select(p => p.Name))}");
        AnsiConsole.MarkupLineInterpolated(
            $"machine: {Environment.ProcessorCount} processors, load average {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");

        using var schedule = new NoiseSchedule(100);
        var benchmark = new SamplerBenchmark(predictors, settings.Horizon, settings.Batch, settings.Chunks, settings.Warmup, settings.Seed, recorded is null ? null : recorded.Draw);
        var parallel = settings.Windows
            .SelectMany(p => settings.WarmStarts.SelectMany(warm => settings.Workers.Select(w => new SamplerOptions { Window = p, Tolerance = settings.Tolerance, Workers = w, WarmStart = warm })))
            .ToList();
        var measurements = new List<SamplerMeasurement>();
        foreach (var (name, steps) in settings.Schedulers.Where(s => s.Steps > 0))
        {
            using DiffusionScheduler scheduler = name switch
            {
                "DDPM" => new DdpmScheduler(schedule, steps),
                "DDIM" => new DdimScheduler(schedule, steps),
                _ => new DpmSolverMultistepScheduler(schedule, steps),
            };
            measurements.AddRange(benchmark.Run(scheduler, name, settings.Threads, parallel));
            AnsiConsole.MarkupLineInterpolated($"  {name} {steps} steps: done");
        }

        var table = new Table()
            .AddColumn("backend").AddColumn("threads").AddColumn("scheduler").AddColumn("steps").AddColumn("sampler").AddColumn("P").AddColumn("start").AddColumn("workers")
            .AddColumn("median ms").AddColumn("p99 ms").AddColumn("CPU ms").AddColumn("iterations").AddColumn("evals").AddColumn("speedup").AddColumn("|Δ| vs seq median / max")
            .AddColumn("CPU ms: cond / network / rest");
        foreach (var m in measurements)
            table.AddRow(
                m.Backend, m.Threads.ToString(CultureInfo.InvariantCulture), m.Scheduler, m.Steps.ToString(CultureInfo.InvariantCulture), m.Method,
                m.Method == "sequential" ? "-" : m.Window.ToString(CultureInfo.InvariantCulture), m.Method == "sequential" ? "-" : m.Start, m.Workers.ToString(CultureInfo.InvariantCulture),
                m.MedianMs.ToString("F1", CultureInfo.InvariantCulture), m.P99Ms.ToString("F1", CultureInfo.InvariantCulture), m.MedianCpuMs.ToString("F0", CultureInfo.InvariantCulture),
                m.MeanIterations.ToString("F1", CultureInfo.InvariantCulture), m.MeanEvaluations.ToString("F0", CultureInfo.InvariantCulture),
                m.Speedup.ToString("F2", CultureInfo.InvariantCulture) + "×",
                m.MedianDifference.ToString("E1", CultureInfo.InvariantCulture) + " / " + m.MaxDifference.ToString("E1", CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{m.MeanConditionMs:F1} / {m.MeanNetworkMs:F1} / {m.MeanCpuMs - m.MeanConditionMs - m.MeanNetworkMs:F1}"));
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("speedup: sequential median / variant median at the same backend and thread count; CPU ms: process CPU time per chunk (median); |Δ|: max |trajectory − sequential trajectory| of a chunk (same noise), median and max over chunks; CPU ms cond / network / rest: mean CPU time per chunk in the network's conditioning, in network calls (summed over workers) and the rest (the sampler's own tensor work, thread joins).");
        return measurements;
    }

    static bool[] ParseStarts(string text)
    {
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0 || names.Any(n => n is not ("warm" or "cold")))
            throw new FormatException($"--start takes warm and/or cold, comma-separated, not '{text}'.");
        return names.Distinct().Select(n => n == "warm").ToArray();
    }

    static int[] ParseList(string text, string option)
    {
        try
        {
            int[] values = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            if (values.Length == 0 || values.Any(v => v <= 0)) throw new FormatException();
            return values;
        }
        catch (FormatException)
        {
            throw new FormatException($"{option} must be a comma-separated list of positive integers, got '{text}'.");
        }
    }

    /// <summary>Random weights of <paramref name="config"/>, in eval mode and prepared for inference as the loaders leave theirs.</summary>
    static ConditionalUnet1D RandomNetwork(ConditionalUnet1DConfig config)
    {
        var network = new ConditionalUnet1D(config);
        network.eval();
        network.PrepareForInference();
        return network;
    }

    /// <summary>
    /// The network of a policy checkpoint (from train) or of a network checkpoint (from import), eval mode, prepared
    /// for inference; with <paramref name="observations"/>, also the policy's conditioning from those recordings.
    /// </summary>
    static ConditionalUnet1D LoadNetwork(string directory, FileInfo? observations, out RecordedConditions? recorded)
    {
        recorded = null;
        if (!File.Exists(Path.Combine(directory, PolicyCheckpoint.ConfigFile)))
        {
            if (observations is not null)
                throw new ArgumentException($"--observations needs a policy checkpoint; '{directory}' has no {PolicyCheckpoint.ConfigFile}.");
            return UnetCheckpoint.Load(directory);
        }
        var (config, network, obsNormalizer, _) = PolicyCheckpoint.Load(directory);
        try
        {
            if (observations is not null) recorded = new RecordedConditions(observations.FullName, config, obsNormalizer);
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
