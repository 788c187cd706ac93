using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffPolicy.Cli.Benchmarks;
using DiffPolicy.Data;
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
internal sealed class BenchSamplerCommand : VerbCommand<BenchSamplerCommand.Settings>
{
    /// <summary>What to measure; the network options apply to random weights only (a checkpoint brings its own).</summary>
    public sealed record Settings(
        string? Checkpoint, int[] DownDims, int StepEmbed, int Kernel, int GlobalCond, int Horizon, int ActionDim, int Batch, int Chunks, int Warmup,
        int[] Windows, double Tolerance, bool[] WarmStarts, int[] Workers, int[] Threads, (SolverKind Solver, int Steps)[] Schedulers, ulong Seed,
        string? Observations, string? Json, NetworkBackend[] Backends, BatchWindows[]? BatchWindows = null,
        string? PytorchReference = null, int[]? PytorchThreads = null, int PytorchChunks = 5, string? Python = null, bool Profile = false)
    {
        public object Describe(ConditionalUnet1D network, int horizon) => new
        {
            weights = Checkpoint ?? "random weights",
            network = network.Config,
            parameters = network.parameters().Sum(p => p.numel()),
            horizon,
            batch = Batch,
            chunks = Chunks,
            warmup = Warmup,
            windows = Windows,
            tolerance = Tolerance,
            starts = WarmStarts.Select(w => w ? "warm" : "cold"),
            batch_windows = (BatchWindows ?? [Policy.Sampling.BatchWindows.PerSample]).Select(b => b.ToString()),
            workers = Workers,
            threads = Threads,
            schedulers = Schedulers.Select(s => new { Name = SolverNames.Label(s.Solver), s.Steps }),
            seed = Seed,
            backends = Backends.Select(b => b.ToString().ToLowerInvariant()),
            conditioning = Observations is null ? "N(0, I)" : $"recorded observations: {Observations}",
            pytorch_reference = PytorchReference,
            processors = Environment.ProcessorCount,
            load_average = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a",
        };
    }

    public const int MaxChannels = 4096, MaxKernel = 31, MaxCond = 100_000, MaxHorizon = 1024, MaxBatch = 1024, MaxChunks = 100_000;

    readonly Option<DirectoryInfo> checkpoint = CliOptions.InputFolder("--checkpoint",
        "A policy checkpoint (policy.json, e.g. checkpoints/pusht) or a network checkpoint from `import` (unet.config.json); random weights of the configuration below when absent.", required: false);
    readonly Option<int[]> downDims = CliOptions.IntList("--down-dims", "U-Net channels per level (random weights).", "64,128,256", 1, MaxChannels);
    readonly Option<int> stepEmbed = CliOptions.Int("--step-embed", "Diffusion-step embedding size, even (random weights).", 128, 4, MaxChannels);
    readonly Option<int> kernel = CliOptions.Int("--kernel", "Convolution kernel size (random weights).", 5, 1, MaxKernel);
    readonly Option<int> globalCond = CliOptions.Int("--global-cond", "global_cond size, n_obs_steps × obs_dim (random weights; PushT keypoints: 2 × 18).", 36, 1, MaxCond);
    readonly Option<int> horizon = CliOptions.Int("--horizon", "Trajectory length (random weights).", 16, 1, MaxHorizon);
    readonly Option<int> actionDim = CliOptions.Int("--action-dim", "Action dimension (random weights).", 2, 1, MaxChannels);
    readonly Option<int> batch = CliOptions.Int("--batch", "Samples per chunk.", 1, 1, MaxBatch);
    readonly Option<int> chunks = CliOptions.Int("--chunks", "Timed chunks per variant.", 20, 1, MaxChunks);
    readonly Option<int> warmup = CliOptions.Int("--warmup", "Untimed chunks first.", 2, 0, MaxChunks);
    readonly Option<int[]> windows = CliOptions.IntList("--window", "ParaDiGMS windows P to compare, comma-separated.", "8,12,16", 1, SamplingOptions.MaxWindow);
    readonly Option<double> tolerance = CliOptions.Double("--tolerance", "ParaDiGMS tolerance τ.", 0.1, 0, 100);
    readonly Option<bool[]> starts = new("--start")
    {
        Description = "ParaDiGMS initial guesses to compare, comma-separated: warm (roll-out with the newest model output) and/or cold (copies of the last latent, the paper's) (default warm,cold).",
        DefaultValueFactory = _ => [true, false],
        CustomParser = result =>
        {
            var text = string.Join(',', result.Tokens.Select(t => t.Value));
            var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (names.Length > 0 && names.All(n => n is "warm" or "cold")) return names.Distinct().Select(n => n == "warm").ToArray();
            result.AddError($"--start takes warm and/or cold, comma-separated, not '{text}'.");
            return [];
        },
    };
    readonly Option<BatchWindows[]> batchWindows = CliOptions.ChoiceList("--batch-windows",
        "With --batch above 1: how ParaDiGMS windows advance, comma-separated: per_sample (each sample its own window, leaving when converged) and/or lockstep (all slide by the slowest sample).",
        BatchWindows.PerSample);
    readonly Option<int[]> workers = CliOptions.IntList("--workers", "ParaDiGMS worker threads per window to compare, comma-separated.", "1,2", 1, SamplingOptions.MaxWorkers);
    readonly Option<int[]> threads = CliOptions.IntList("--threads", "libtorch intra-op thread counts to compare, comma-separated.", "1,2", 1, CliOptions.MaxThreads);
    readonly Option<int> ddpmSteps = CliOptions.Int("--ddpm-steps", "DDPM steps (0 skips).", 100, 0, 100);
    readonly Option<int> ddimSteps = CliOptions.Int("--ddim-steps", "DDIM steps (0 skips).", 100, 0, 100);
    readonly Option<int> dpmSteps = CliOptions.Int("--dpm-steps", "DPM-Solver++ 2M steps (0 skips).", 50, 0, 100);
    readonly Option<ulong> seed = CliOptions.ULong("--seed", "Seed of weights, conditioning and noise.", 0, long.MaxValue);
    readonly Option<FileInfo> observations = CliOptions.InputFile("--observations",
        "Recorded episodes (.npz in the training format, e.g. data/pusht_expert_250.npz from `pusht collect`): each chunk is conditioned on n_obs_steps consecutive observations of one episode, normalised as the policy checkpoint does (needs a policy --checkpoint). Default: N(0, I) conditioning.", required: false);
    readonly Option<FileInfo?> json = CliOptions.OutputFile("--json", "Also write the measurements as JSON.");
    readonly Option<NetworkBackend[]> backends = CliOptions.ChoiceList("--backend",
        "Network implementations to compare, comma-separated: fast (fused CPU forward), torch (TorchSharp) or auto (fast on a CPU).", NetworkBackend.Auto);

    readonly Option<DirectoryInfo> pytorchReference = CliOptions.InputFolder("--pytorch-reference",
        "DP_SRC, a real-stanford/diffusion_policy source tree (its diffusion_policy/model and diffusion_policy/common): after the variants, the ORIGINAL ConditionalUnet1D with the checkpoint's weights runs sequential 100-step DDPM chunks eagerly on PyTorch (--python), on the same observations, and every DDPM variant is reported as a ratio of that chunk (docs/sampling.md).",
        required: false);
    readonly Option<int[]> pytorchThreads = CliOptions.IntList("--pytorch-threads", "PyTorch thread counts of the eager reference, comma-separated.", "1,2", 1, CliOptions.MaxThreads);
    readonly Option<int> pytorchChunks = CliOptions.Int("--pytorch-chunks", "Timed eager chunks per thread count (one more untimed first).", 5, 1, 1000);
    readonly Option<bool> profile = new("--profile")
    {
        Description = "Also time where each chunk's wall time goes: conditioning, network (the slowest worker's share of each call), thread handoff, the sampler's arithmetic, the error test, the rest; with the network's multiply-adds per row and the rate its calls reached (docs/sampling.md).",
    };
    readonly Option<string?> python = new("--python") { Description = "The Python with torch 1.13 for --pytorch-reference (default /usr/bin/python3, Debian's python3-torch)." };

    public BenchSamplerCommand()
        : base("sampler", "Chunk latency of sequential 100-step DDPM vs ParaDiGMS (and DDIM / DPM-Solver++), side by side on the same noise.")
    {
        Add(checkpoint, downDims, stepEmbed, kernel, globalCond, horizon, actionDim, batch, chunks, warmup, windows, tolerance, starts, workers, threads,
            ddpmSteps, ddimSteps, dpmSteps, seed, observations, json, backends, batchWindows, pytorchReference, pytorchThreads, pytorchChunks, python, profile);
    }

    public override Settings Bind(ParseResult parse) => new(
        parse.GetValue(checkpoint)?.FullName, parse.GetValue(downDims)!, parse.GetValue(stepEmbed), parse.GetValue(kernel), parse.GetValue(globalCond),
        parse.GetValue(horizon), parse.GetValue(actionDim), parse.GetValue(batch), parse.GetValue(chunks), parse.GetValue(warmup), parse.GetValue(windows)!,
        parse.GetValue(tolerance), parse.GetValue(starts)!, parse.GetValue(workers)!, parse.GetValue(threads)!,
        [(SolverKind.Ddpm, parse.GetValue(ddpmSteps)), (SolverKind.Ddim, parse.GetValue(ddimSteps)), (SolverKind.DpmSolver, parse.GetValue(dpmSteps))],
        parse.GetValue(seed), parse.GetValue(observations)?.FullName, parse.GetValue(json)?.FullName, parse.GetValue(backends)!, parse.GetValue(batchWindows),
        parse.GetValue(pytorchReference)?.FullName, parse.GetValue(pytorchThreads), parse.GetValue(pytorchChunks), parse.GetValue(python),
        parse.GetValue(profile));

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Schedulers.All(s => s.Steps == 0)) throw new CliInputException("--ddpm-steps", "--ddpm-steps, --ddim-steps and --dpm-steps are all 0: nothing to measure.");
        if (settings.Observations is not null && settings.Checkpoint is null)
            throw new CliInputException("--observations", "needs a policy --checkpoint (policy.json): its normaliser and n_obs_steps turn observations into global_cond.");
        CheckReference(settings);
        var jsonPath = OutputPaths.File("--json", settings.Json is null ? null : new FileInfo(settings.Json));
        torch.manual_seed((long)settings.Seed);
        RecordedConditions? recorded = null;
        var stored = new NoiseSchedulerConfig();
        using var network = settings.Checkpoint is { } dir
            ? CliErrors.Reading("--checkpoint", dir, () => LoadNetwork(dir, settings.Observations, out recorded, out stored))
            : RandomNetwork(new ConditionalUnet1DConfig
            {
                InputDim = settings.ActionDim,
                GlobalCondDim = settings.GlobalCond,
                DiffusionStepEmbedDim = settings.StepEmbed,
                DownDims = settings.DownDims,
                KernelSize = settings.Kernel,
                CondPredictScale = true,
                Horizon = settings.Horizon,
            });
        var schedulers = SchedulerConfigs(stored, settings);
        var horizonUsed = network.Config.Horizon ?? settings.Horizon;
        var predictors = settings.Backends.Select(b => NoisePredictors.Create(network, b, torch.CPU)).ToList();
        List<SamplerMeasurement> measurements;
        var drawn = new List<float[]>();
        try
        {
            measurements = Measure(network, predictors.Select(p => (p is ConditionalUnet1D ? "torch" : "fast", p)).ToList(), settings, schedulers, horizonUsed, recorded, drawn);
        }
        finally
        {
            foreach (var predictor in predictors)
                if (!ReferenceEquals(predictor, network)) (predictor as IDisposable)?.Dispose();
        }
        object? reference = null;
        if (settings.PytorchReference is { } dpSrc)
        {
            AnsiConsole.MarkupLineInterpolated($"PyTorch eager reference: the original ConditionalUnet1D from {dpSrc}, {settings.PytorchChunks} chunks per thread count …");
            var eager = PytorchReference.Run(settings.Python ?? PytorchReference.DefaultPython, dpSrc, AtomicDirectory.Resolve(settings.Checkpoint!), drawn,
                settings.PytorchThreads ?? [1, 2], settings.PytorchChunks, warmup: 1, cancel);
            var ratios = PytorchReference.Ratios(measurements, eager);
            PrintReference(eager, ratios);
            reference = new { eager, ratios, goal = new { median = PytorchReference.MedianGoal, p99 = PytorchReference.P99Goal } };
        }
        if (jsonPath is not null)
        {
            AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(new { settings = settings.Describe(network, horizonUsed), measurements, pytorch_reference = reference },
                JsonOptions));
        }
        return ExitCodes.Done;
    }

    /// <summary>--pytorch-reference's needs, checked before any work.</summary>
    static void CheckReference(Settings settings)
    {
        if (settings.PytorchReference is not { } dpSrc) return;
        if (settings.Checkpoint is null)
            throw new CliInputException("--pytorch-reference", "needs a --checkpoint: the original network is loaded with its unet.safetensors");
        if (settings.Schedulers.FirstOrDefault(s => s.Solver == SolverKind.Ddpm).Steps != 100)
            throw new CliInputException("--pytorch-reference", "compares 100-step DDPM chunks: keep --ddpm-steps 100");
        PytorchReference.Check(dpSrc, settings.Python ?? PytorchReference.DefaultPython);
    }

    static void PrintReference(EagerReport eager, List<EagerRatio> ratios)
    {
        static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        AnsiConsole.MarkupLineInterpolated($"PyTorch {eager.Torch}, {eager.Weights}; eager {eager.Steps}-step chunk (batch 1):");
        foreach (var run in eager.Runs)
            AnsiConsole.MarkupLineInterpolated($"  {run.Threads} thread(s): median {F(run.MedianMs, "F0")} ms, p99 {F(run.P99Ms, "F0")} ms ({F(run.PerCallMs, "F2")} ms per network call)");
        var table = new Table().AddColumn("backend").AddColumn("threads").AddColumn("sampler").AddColumn("P").AddColumn("start").AddColumn("workers")
            .AddColumn("median ms").AddColumn("p99 ms").AddColumn("median / eager").AddColumn("p99 / eager").AddColumn("goal met");
        foreach (var r in ratios)
        {
            var parallel = r.Method != "sequential";
            table.AddRow(r.Backend, r.Threads.ToString(CultureInfo.InvariantCulture), r.Method, parallel ? r.Window.ToString(CultureInfo.InvariantCulture) : "-",
                parallel ? r.Start : "-", r.Workers.ToString(CultureInfo.InvariantCulture), F(r.MedianMs, "F1"), F(r.P99Ms, "F1"),
                F(r.MedianRatio, "F3") + "×", F(r.P99Ratio, "F3") + "×", r.Met ? "yes" : "no");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated(
            $"eager: the fastest thread count's median ({eager.Fastest.Threads} thread(s), {F(eager.Fastest.MedianMs, "F0")} ms); goal (issue 15): median ≤ {PytorchReference.MedianGoal}×, p99 ≤ {PytorchReference.P99Goal}× the eager chunk. The eager chunks ran after the variants, in another process: compare on an otherwise idle machine.");
    }

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>
    /// The schedulers to compare: the checkpoint's scheduler config (num_train_timesteps, prediction_type, clip_sample;
    /// the defaults for random weights or a bare network) with each asked-for solver and step count.
    /// </summary>
    internal static IReadOnlyList<NoiseSchedulerConfig> SchedulerConfigs(NoiseSchedulerConfig stored, Settings settings)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(settings);
        var configs = settings.Schedulers.Where(s => s.Steps > 0).Select(s => stored with { Solver = s.Solver, InferenceSteps = s.Steps }).ToList();
        foreach (var (config, option) in configs.Select(c => (c, $"--{(c.Solver == SolverKind.DpmSolver ? "dpm" : SolverNames.Name(c.Solver))}-steps")))
        {
            try
            {
                config.Validate();
            }
            catch (InvalidDataException e)
            {
                throw new CliInputException(option, e.Message, e);
            }
        }
        return configs;
    }

    /// <param name="drawn">Receives row 0 of each chunk's global_cond as drawn (warm-up first), up to --pytorch-chunks + 1: the eager reference's observations.</param>
    static List<SamplerMeasurement> Measure(ConditionalUnet1D network, List<(string Name, INoisePredictor Predictor)> predictors, Settings settings,
        IReadOnlyList<NoiseSchedulerConfig> schedulers, int horizon, RecordedConditions? recorded, List<float[]> drawn)
    {
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]bench sampler[/]: {settings.Checkpoint ?? "random weights"}, down_dims [[{string.Join(",", network.Config.DownDims)}]], {network.parameters().Sum(p => p.numel()):N0} parameters, horizon {horizon}, batch {settings.Batch}, {settings.Chunks} chunks (+{settings.Warmup} warm-up), τ = {settings.Tolerance}, conditioning {settings.Observations ?? "N(0, I)"}, network backends {string.Join(", ", predictors.Select(p => p.Name))}");
        AnsiConsole.MarkupLineInterpolated(
            $"machine: {Environment.ProcessorCount} processors, load average {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");

        using var schedule = new NoiseSchedule(schedulers.Count > 0 ? schedulers[0].NumTrainTimesteps : 100);
        var globalCond = network.Config.GlobalCondDim;
        var benchmark = new SamplerBenchmark(predictors, horizon, settings.Batch, settings.Chunks, settings.Warmup, settings.Seed, (batch, generator) =>
        {
            // The same draw SamplerBenchmark makes without a conditions function.
            var cond = recorded?.Draw(batch, generator) ?? torch.randn([batch, globalCond], generator: generator);
            if (drawn.Count <= settings.PytorchChunks) drawn.Add(cond[0].data<float>().ToArray());
            return cond;
        }, settings.Profile);
        var parallel = settings.Windows
            .SelectMany(p => settings.WarmStarts.SelectMany(warm => settings.Workers.SelectMany(w => (settings.BatchWindows ?? [BatchWindows.PerSample]).Select(b =>
                new SamplerOptions { Window = p, Tolerance = settings.Tolerance, Workers = w, WarmStart = warm, BatchWindows = b }))))
            .ToList();
        var measurements = new List<SamplerMeasurement>();
        foreach (var config in schedulers)
        {
            using var scheduler = config.Create(schedule);
            var name = SolverNames.Label(config.Solver);
            measurements.AddRange(benchmark.Run(scheduler, name, settings.Threads, parallel));
            AnsiConsole.MarkupLineInterpolated($"  {name} {config.InferenceSteps} steps: done");
        }

        var table = new Table()
            .AddColumn("backend").AddColumn("threads").AddColumn("scheduler").AddColumn("steps").AddColumn("sampler").AddColumn("P").AddColumn("start").AddColumn("workers")
            .AddColumn("median ms").AddColumn("p99 ms").AddColumn("CPU ms").AddColumn("iterations").AddColumn("evals").AddColumn("speedup").AddColumn("|Δ| vs seq median / max")
            .AddColumn("CPU ms: cond / network / rest");
        foreach (var m in measurements)
        {
            table.AddRow(
                m.Backend, m.Threads.ToString(CultureInfo.InvariantCulture), m.Scheduler, m.Steps.ToString(CultureInfo.InvariantCulture), m.Method,
                m.Method == "sequential" ? "-" : m.Window.ToString(CultureInfo.InvariantCulture), m.Method == "sequential" ? "-" : m.Start, m.Workers.ToString(CultureInfo.InvariantCulture),
                m.MedianMs.ToString("F1", CultureInfo.InvariantCulture), m.P99Ms.ToString("F1", CultureInfo.InvariantCulture), m.MedianCpuMs.ToString("F0", CultureInfo.InvariantCulture),
                m.MeanIterations.ToString("F1", CultureInfo.InvariantCulture), m.MeanEvaluations.ToString("F0", CultureInfo.InvariantCulture),
                m.Speedup.ToString("F2", CultureInfo.InvariantCulture) + "×",
                m.MedianDifference.ToString("E1", CultureInfo.InvariantCulture) + " / " + m.MaxDifference.ToString("E1", CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{m.MeanConditionMs:F1} / {m.MeanNetworkMs:F1} / {m.MeanCpuMs - m.MeanConditionMs - m.MeanNetworkMs:F1}"));
        }

        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("speedup: sequential median / variant median at the same backend and thread count; CPU ms: process CPU time per chunk (median); |Δ|: max |trajectory − sequential trajectory| of a chunk (same noise), median and max over chunks; CPU ms cond / network / rest: mean CPU time per chunk in the network's conditioning, in network calls (summed over workers) and the rest (the sampler's own tensor work, thread joins).");
        if (settings.Profile) PrintPhases(measurements, FlopsPerRow(network, horizon));
        return measurements;
    }

    /// <summary>The network's multiply-adds per row at <paramref name="horizon"/> (<see cref="NetworkArithmetic"/>).</summary>
    static double FlopsPerRow(ConditionalUnet1D network, int horizon) =>
        NetworkArithmetic.FlopsPerRow(network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape), horizon);

    /// <summary>--profile: mean wall ms per chunk and phase, as shares of the chunk, and the rate the network calls reached.</summary>
    static void PrintPhases(List<SamplerMeasurement> measurements, double flopsPerRow)
    {
        static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        static string Share(double ms, double wall) => $"{F(ms, "F1")} ({F(100 * ms / wall, "F0")} %)";
        var table = new Table().AddColumn("backend").AddColumn("threads").AddColumn("scheduler").AddColumn("sampler").AddColumn("P").AddColumn("workers")
            .AddColumn("wall ms").AddColumn("conditioning").AddColumn("network").AddColumn("handoff").AddColumn("arithmetic").AddColumn("error test").AddColumn("other")
            .AddColumn("rows").AddColumn("network GFLOP/s");
        foreach (var m in measurements.Where(m => m.Phases is not null))
        {
            var p = m.Phases!;
            var parallel = m.Method != "sequential";
            table.AddRow(m.Backend, m.Threads.ToString(CultureInfo.InvariantCulture), m.Scheduler, m.Method, parallel ? m.Window.ToString(CultureInfo.InvariantCulture) : "-",
                m.Workers.ToString(CultureInfo.InvariantCulture), F(p.WallMs, "F1"), Share(p.ConditioningMs, p.WallMs), Share(p.NetworkMs, p.WallMs),
                Share(p.HandoffMs, p.WallMs), Share(p.ArithmeticMs, p.WallMs), Share(p.ErrorTestMs, p.WallMs), Share(p.OtherMs, p.WallMs),
                F(p.RowsPerChunk, "F0"), p.NetworkMs > 0 ? F(p.RowsPerChunk * flopsPerRow / p.NetworkMs / 1e6, "F0") : "-");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated(
            $"--profile: mean wall ms per chunk on the sampling thread (% of the chunk). network: the slowest worker's share of each call; handoff: the rest of each call (starting and joining workers, gathering outputs); arithmetic: the sampler's tensor work (rows gathered, x̂0, means, cumulative update, roll-outs); error test: squared updates, their copy to the CPU, acceptance; other: the chunk's remaining wall time (feeds, dispose scopes). {F(flopsPerRow / 1e6, "F1")} MFLOP per network row (convolutions at horizon; FiLM encoders are conditioning); GFLOP/s: rows × that / network ms.");
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
    static ConditionalUnet1D LoadNetwork(string directory, string? observations, out RecordedConditions? recorded, out NoiseSchedulerConfig scheduler)
    {
        recorded = null;
        scheduler = new NoiseSchedulerConfig();
        if (!File.Exists(Path.Combine(directory, PolicyCheckpoint.ConfigFile)))
        {
            if (observations is not null)
                throw new CliInputException("--observations", $"needs a policy checkpoint; '{directory}' has no {PolicyCheckpoint.ConfigFile}.");
            return UnetCheckpoint.Load(directory);
        }
        var (config, network, obsNormalizer, _) = PolicyCheckpoint.Load(directory);
        scheduler = config.Scheduler;
        try
        {
            if (observations is not null)
                recorded = CliErrors.Reading("--observations", observations, () => new RecordedConditions(observations, config, obsNormalizer));
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
