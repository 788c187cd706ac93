using System.Diagnostics;
using DiffPolicy.Policy.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Benchmarks;

/// <summary>One backend at one row count: milliseconds per network call.</summary>
/// <param name="MedianCpuMs">The calling thread's CPU time per call (median): what the call costs when it has a core, nearly free of other load.</param>
/// <param name="Ratio">Median of the first backend listed (the reference, torch by default) over this one's, same rows.</param>
/// <param name="CpuRatio">The same ratio for CPU time.</param>
internal sealed record NetworkMeasurement(string Backend, int Rows, int Calls, double MedianMs, double P10Ms, double P90Ms, double MedianCpuMs, double MinCpuMs,
    double Ratio, double CpuRatio);

/// <summary>
/// Times <see cref="INoisePredictor.Denoise"/> of several backends on the same inputs, call by call in
/// rotating order so that load changes on a shared machine hit all backends alike. The conditioning is
/// made once per row count, as a sampler makes it once per chunk.
/// </summary>
internal static class NetworkBenchmark
{
    public static List<NetworkMeasurement> Run(IReadOnlyList<(string Name, INoisePredictor Predictor)> backends, IReadOnlyList<int> rowCounts, int horizon,
        int calls, int warmup, ulong seed)
    {
        var config = backends[0].Predictor.Config;
        var measurements = new List<NetworkMeasurement>();
        using var generator = new Generator(seed);
        foreach (var rows in rowCounts)
        {
            using var scope = NewDisposeScope();
            using var mode = inference_mode();
            var sample = randn([rows, horizon, config.InputDim], generator: generator);
            var timestep = randint(0, 100, [rows], int64, generator: generator);
            var cond = randn([rows, config.GlobalCondDim], generator: generator);
            var conditionings = backends.Select(b => b.Predictor.Condition(timestep, cond)).ToArray();
            var times = backends.Select(_ => new List<double>()).ToArray();
            var cpu = backends.Select(_ => new List<double>()).ToArray();
            for (var call = -warmup; call < calls; call++)
            {
                for (var k = 0; k < backends.Count; k++)
                {
                    var b = (k + Math.Max(call, 0)) % backends.Count;
                    var cpuStarted = ThreadCpu.Milliseconds();
                    var started = Stopwatch.GetTimestamp();
                    using (var output = backends[b].Predictor.Denoise(sample, conditionings[b])) { }
                    if (call < 0) continue;
                    times[b].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    cpu[b].Add(ThreadCpu.Milliseconds() - cpuStarted);
                }
            }
            foreach (var conditioning in conditionings) conditioning.Dispose();
            double reference = Quantiles.R7(times[0], 0.5), cpuReference = Quantiles.R7(cpu[0], 0.5);
            for (var b = 0; b < backends.Count; b++)
            {
                double median = Quantiles.R7(times[b], 0.5), cpuMedian = Quantiles.R7(cpu[b], 0.5);
                measurements.Add(new NetworkMeasurement(backends[b].Name, rows, calls, median, Quantiles.R7(times[b], 0.1), Quantiles.R7(times[b], 0.9),
                    cpuMedian, cpu[b].Min(), reference / median, cpuReference / cpuMedian));
            }
        }
        return measurements;
    }
}
