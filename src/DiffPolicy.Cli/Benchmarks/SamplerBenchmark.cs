using System.Diagnostics;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Sampling;
using DiffPolicy.Policy.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Benchmarks;

/// <summary>Latency and work of one sampler variant over all chunks.</summary>
/// <param name="Speedup">Median latency of sequential sampling with the same thread count over this variant's.</param>
/// <param name="MedianDifference">Median over chunks of max |trajectory − sequential trajectory| on the same noise.</param>
/// <param name="MaxDifference">Max |trajectory − sequential trajectory| on the same noise, over all chunks.</param>
/// <param name="MedianCpuMs">Process CPU time per chunk: less sensitive than wall time to other load on the machine.</param>
/// <param name="MeanCpuMs">Process CPU time per chunk (mean), the sum of the three phases: conditioning, network, the sampler's own work.</param>
/// <param name="MeanConditionMs">CPU time per chunk of the network's conditioning (step embedding and FiLM of all S·B rows).</param>
/// <param name="MeanNetworkMs">CPU time per chunk inside network calls, summed over worker threads.</param>
/// <param name="Phases">With --profile: where a chunk's wall time went.</param>
internal sealed record SamplerMeasurement(
    string Backend, int Threads, string Scheduler, int Steps, string Method, int Window, string Start, int Workers, double Tolerance,
    double MedianMs, double P99Ms, double MedianCpuMs, double MeanIterations, double MeanEvaluations, double Speedup, double MedianDifference, double MaxDifference,
    double MeanCpuMs, double MeanConditionMs, double MeanNetworkMs, SamplerPhases? Phases = null);

/// <summary>
/// Mean wall time per chunk of each <see cref="SamplerPhase"/> (ms), on the sampling thread; <paramref name="OtherMs"/> is the
/// chunk's wall time beyond them (feeds, dispose scopes, the result).
/// </summary>
/// <param name="RowsPerChunk">Network rows evaluated per chunk (latents × steps of every call).</param>
internal sealed record SamplerPhases(
    double WallMs, double ConditioningMs, double NetworkMs, double HandoffMs, double ArithmeticMs, double ErrorTestMs, double OtherMs, double CallsPerChunk, double RowsPerChunk)
{
    public static SamplerPhases From(SamplerProfile profile, IReadOnlyCollection<double> wallMs, int chunks)
    {
        double Mean(SamplerPhase phase) => profile.Milliseconds(phase) / chunks;
        var wall = wallMs.Average();
        var phases = Enum.GetValues<SamplerPhase>().Sum(Mean);
        return new SamplerPhases(wall, Mean(SamplerPhase.Conditioning), Mean(SamplerPhase.Network), Mean(SamplerPhase.Handoff), Mean(SamplerPhase.Arithmetic),
            Mean(SamplerPhase.ErrorTest), wall - phases, (double)profile.Calls / chunks, (double)profile.Rows / chunks);
    }
}

/// <summary>
/// Times sequential sampling and ParaDiGMS variants at several thread counts on the same conditioning
/// and noise, chunk by chunk, rotating the order every chunk so that load changes on a shared machine
/// hit all variants alike.
/// </summary>
/// <param name="conditions">Draws a chunk's global_cond (batch, global_cond_dim); N(0, I) when null.</param>
/// <param name="backends">Network implementations, each with every sampler variant; speedups are against sequential sampling on the same backend.</param>
/// <param name="profile">Also time each chunk's phases (<see cref="SamplerProfile"/>).</param>
internal sealed class SamplerBenchmark(IReadOnlyList<(string Name, INoisePredictor Predictor)> backends, int horizon, int batch, int chunks, int warmup, ulong seed,
    Func<long, Generator, Tensor>? conditions = null, bool profile = false)
{
    sealed record Variant(string Backend, int Threads, DiffusionSampler Sampler, TimedPredictor Timer)
    {
        public List<double> Wall { get; } = [];
        public List<double> Cpu { get; } = [];
        public double Iterations { get; set; }
        public double Evaluations { get; set; }
        public List<double> Difference { get; } = [];
    }

    public IReadOnlyList<SamplerMeasurement> Run(DiffusionScheduler scheduler, string name, IReadOnlyList<int> threads, IReadOnlyList<SamplerOptions> parallelOptions)
    {
        var options = parallelOptions.Prepend(new SamplerOptions { Method = SamplerMethod.Sequential }).ToList();
        var variants = backends.SelectMany(b => threads.SelectMany(t => options.Select(o =>
        {
            var timer = new TimedPredictor(b.Predictor);
            return new Variant(b.Name, t, new DiffusionSampler(timer, scheduler, o, horizon) { Profile = profile ? new SamplerProfile() : null }, timer);
        }))).ToArray();
        using var generator = new Generator(seed);
        using var process = Process.GetCurrentProcess();

        for (var chunk = -warmup; chunk < chunks; chunk++)
        {
            using var scope = NewDisposeScope();
            var cond = conditions?.Invoke(batch, generator) ?? randn([batch, backends[0].Predictor.Config.GlobalCondDim], generator: generator);
            using var noise = variants[0].Sampler.DrawNoise(batch, generator);
            var results = new SamplingResult[variants.Length];
            var cpu = new double[variants.Length];
            for (var r = 0; r < variants.Length; r++)
            {
                var v = (r + Math.Max(chunk, 0)) % variants.Length;
                TorchRuntime.SetThreads(variants[v].Threads);
                process.Refresh();
                var cpuBefore = process.TotalProcessorTime;
                if (chunk == 0)
                {
                    variants[v].Timer.Reset();
                    variants[v].Sampler.Profile?.Reset();
                }
                results[v] = variants[v].Sampler.Sample(cond, noise);
                process.Refresh();
                cpu[v] = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds;
            }
            for (var v = 0; chunk >= 0 && v < variants.Length; v++)
            {
                var stats = results[v].Stats;
                var reference = results[Array.FindIndex(variants, x => x.Threads == variants[v].Threads && x.Backend == variants[v].Backend)];
                variants[v].Wall.Add(stats.WallTime.TotalMilliseconds);
                variants[v].Cpu.Add(cpu[v]);
                variants[v].Iterations += stats.Iterations;
                variants[v].Evaluations += stats.Evaluations;
                variants[v].Difference.Add((results[v].Trajectory - reference.Trajectory).abs().max().item<float>());
            }
            foreach (var result in results) result.Dispose();
        }

        return variants.Select(v =>
        {
            var sequential = variants.First(x => x.Threads == v.Threads && x.Backend == v.Backend);
            var o = v.Sampler.Options;
            var parallel = o.Method == SamplerMethod.Paradigms;
            return new SamplerMeasurement(
                v.Backend, v.Threads, name, scheduler.Steps, parallel ? "ParaDiGMS" : "sequential", parallel ? o.Window : 1,
                parallel ? (o.WarmStart ? "warm" : "cold") + (o.BatchWindows == BatchWindows.Lockstep ? ", lockstep" : "") : "-", parallel ? o.Workers : 1, parallel ? o.Tolerance : 0,
                Quantiles.R7(v.Wall, 0.5), Quantiles.R7(v.Wall, 0.99), Quantiles.R7(v.Cpu, 0.5),
                v.Iterations / chunks, v.Evaluations / chunks, Quantiles.R7(sequential.Wall, 0.5) / Quantiles.R7(v.Wall, 0.5),
                Quantiles.R7(v.Difference, 0.5), v.Difference.Max(), v.Cpu.Average(), v.Timer.ConditionMs / chunks, v.Timer.DenoiseMs / chunks,
                v.Sampler.Profile is { } timed ? SamplerPhases.From(timed, v.Wall, chunks) : null);
        }).ToList();
    }
}
