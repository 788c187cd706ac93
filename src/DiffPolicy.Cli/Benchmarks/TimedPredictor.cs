using System.Diagnostics;
using DiffPolicy.Policy.Network;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Benchmarks;

/// <summary>
/// A predictor that adds up the wall time of its calls, so a benchmark can split a chunk into conditioning,
/// network calls and the rest (the sampler's own tensor work). With several workers the network time is summed
/// over their threads.
/// </summary>
internal sealed class TimedPredictor(INoisePredictor inner) : INoisePredictor
{
    long conditionTicks, denoiseTicks;

    public ConditionalUnet1DConfig Config => inner.Config;

    public double ConditionMs => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref conditionTicks)).TotalMilliseconds;

    public double DenoiseMs => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref denoiseTicks)).TotalMilliseconds;

    public void Reset()
    {
        Interlocked.Exchange(ref conditionTicks, 0);
        Interlocked.Exchange(ref denoiseTicks, 0);
    }

    public INoiseConditioning Condition(Tensor timestep, Tensor globalCond)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            return inner.Condition(timestep, globalCond);
        }
        finally
        {
            Interlocked.Add(ref conditionTicks, Stopwatch.GetTimestamp() - started);
        }
    }

    public Tensor Denoise(Tensor sample, INoiseConditioning conditioning)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            return inner.Denoise(sample, conditioning);
        }
        finally
        {
            Interlocked.Add(ref denoiseTicks, Stopwatch.GetTimestamp() - started);
        }
    }
}
