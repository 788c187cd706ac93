using DiffPolicy.Policy.Network;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Benchmarks;

/// <summary>
/// A predictor that adds up the CPU time of its calls (the calling thread's), so a benchmark can split a chunk's
/// CPU time into conditioning, network calls and the rest (the sampler's own tensor work) even on a loaded machine.
/// With several workers the network time is summed over their threads.
/// </summary>
internal sealed class TimedPredictor(INoisePredictor inner) : INoisePredictor
{
    long conditionMicroseconds, denoiseMicroseconds;

    public ConditionalUnet1DConfig Config => inner.Config;

    public double ConditionMs => Interlocked.Read(ref conditionMicroseconds) / 1e3;

    public double DenoiseMs => Interlocked.Read(ref denoiseMicroseconds) / 1e3;

    public void Reset()
    {
        Interlocked.Exchange(ref conditionMicroseconds, 0);
        Interlocked.Exchange(ref denoiseMicroseconds, 0);
    }

    public INoiseConditioning Condition(Tensor timestep, Tensor globalCond)
    {
        var started = ThreadCpu.Milliseconds();
        try
        {
            return inner.Condition(timestep, globalCond);
        }
        finally
        {
            Interlocked.Add(ref conditionMicroseconds, (long)((ThreadCpu.Milliseconds() - started) * 1e3));
        }
    }

    public Tensor Denoise(Tensor sample, INoiseConditioning conditioning)
    {
        var started = ThreadCpu.Milliseconds();
        try
        {
            return inner.Denoise(sample, conditioning);
        }
        finally
        {
            Interlocked.Add(ref denoiseMicroseconds, (long)((ThreadCpu.Milliseconds() - started) * 1e3));
        }
    }

    public INoiseConditioning Concat(IReadOnlyList<INoiseConditioning> parts) => inner.Concat(parts);
}
