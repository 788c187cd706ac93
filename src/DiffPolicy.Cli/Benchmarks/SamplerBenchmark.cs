using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Sampling;
using DiffPolicy.Policy.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Benchmarks;

/// <summary>Latency and work of one variant over all chunks, relative to its scheduler's sequential run.</summary>
internal sealed record SamplerMeasurement(
    int Threads, string Scheduler, int Steps, string Method, string Window, double Tolerance,
    double MedianMs, double P99Ms, double MeanIterations, double MeanEvaluations, double Speedup, double MaxDifference);

/// <summary>
/// Times a sequential sampler and its ParaDiGMS variants on the same conditioning and noise, chunk by
/// chunk, rotating the order every chunk so that load changes on a shared machine hit all alike.
/// </summary>
internal sealed class SamplerBenchmark(ConditionalUnet1D network, int horizon, int batch, int chunks, int warmup, ulong seed)
{
    public IReadOnlyList<SamplerMeasurement> Run(int threads, DiffusionScheduler scheduler, string name, IReadOnlyList<SamplerOptions> parallelOptions)
    {
        var variants = new[] { new SamplerOptions { Method = SamplerMethod.Sequential } }.Concat(parallelOptions)
            .Select(o => new DiffusionSampler(network, scheduler, o, horizon)).ToArray();
        var latencies = variants.Select(_ => new List<double>()).ToArray();
        var iterations = new double[variants.Length];
        var evaluations = new double[variants.Length];
        var maxDifference = new double[variants.Length];
        using var generator = new Generator(seed);

        for (int chunk = -warmup; chunk < chunks; chunk++)
        {
            using var scope = NewDisposeScope();
            var cond = randn([batch, network.Config.GlobalCondDim], generator: generator);
            using var noise = variants[0].DrawNoise(batch, generator);
            var results = new SamplingResult[variants.Length];
            for (int r = 0; r < variants.Length; r++)
            {
                int v = (r + Math.Max(chunk, 0)) % variants.Length;
                results[v] = variants[v].Sample(cond, noise);
            }
            for (int v = 0; chunk >= 0 && v < variants.Length; v++)
            {
                var stats = results[v].Stats;
                latencies[v].Add(stats.WallTime.TotalMilliseconds);
                iterations[v] += stats.Iterations;
                evaluations[v] += stats.Evaluations;
                maxDifference[v] = Math.Max(maxDifference[v], (results[v].Trajectory - results[0].Trajectory).abs().max().item<float>());
            }
            foreach (var result in results) result.Dispose();
        }

        double sequentialMedian = Percentile(latencies[0], 0.5);
        return variants.Select((s, v) => new SamplerMeasurement(
            threads, name, scheduler.Steps,
            v == 0 ? "sequential" : "ParaDiGMS", v == 0 ? "-" : s.Options.Window.ToString(System.Globalization.CultureInfo.InvariantCulture),
            v == 0 ? 0 : s.Options.Tolerance,
            Percentile(latencies[v], 0.5), Percentile(latencies[v], 0.99),
            iterations[v] / chunks, evaluations[v] / chunks,
            sequentialMedian / Percentile(latencies[v], 0.5), maxDifference[v])).ToList();
    }

    /// <summary>Linear interpolation between closest ranks.</summary>
    static double Percentile(List<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        double rank = q * (sorted.Length - 1);
        int low = (int)Math.Floor(rank), high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }
}
