using System.Diagnostics;

namespace DiffPolicy.Policy.Sampling;

/// <summary>The phases of a chunk that <see cref="SamplerProfile"/> times.</summary>
public enum SamplerPhase
{
    /// <summary>The FiLM conditioning of every (step, sample) row, once per chunk.</summary>
    Conditioning,

    /// <summary>Network calls: the slowest worker's share of each call (the critical path).</summary>
    Network,

    /// <summary>A call's time beyond its slowest worker: starting the workers, joining them, gathering their outputs.</summary>
    Handoff,

    /// <summary>The sampler's own tensor work: gathering a window's rows, the scheduler's x̂0 and mean, the cumulative update, roll-outs.</summary>
    Arithmetic,

    /// <summary>ParaDiGMS's error test: the squared updates, their copy to the CPU and the acceptance scan.</summary>
    ErrorTest,
}

/// <summary>
/// Wall time per <see cref="SamplerPhase"/> on the sampling thread, summed over the chunks a sampler runs while it is set
/// (<see cref="DiffusionSampler.Profile"/>); what a chunk took beyond their sum is the rest (feeds, dispose scopes).
/// Two timestamps per phase and call: nothing measurable next to a network call. Not thread-safe: one sampler at a time.
/// </summary>
public sealed class SamplerProfile
{
    readonly long[] ticks = new long[Enum.GetValues<SamplerPhase>().Length];

    /// <summary>Network calls made.</summary>
    public long Calls { get; private set; }

    /// <summary>Rows evaluated by those calls.</summary>
    public long Rows { get; private set; }

    public double Milliseconds(SamplerPhase phase) => ticks[(int)phase] * 1000.0 / Stopwatch.Frequency;

    public void Reset()
    {
        Array.Clear(ticks);
        Calls = Rows = 0;
    }

    internal void Add(SamplerPhase phase, long elapsedTicks) => ticks[(int)phase] += elapsedTicks;

    /// <summary>Adds the time since <paramref name="since"/> to <paramref name="phase"/>; returns now, the next phase's start.</summary>
    internal long Lap(SamplerPhase phase, long since)
    {
        var now = Stopwatch.GetTimestamp();
        ticks[(int)phase] += now - since;
        return now;
    }

    internal void Call(long rows, long slowestTicks, long totalTicks)
    {
        Calls++;
        Rows += rows;
        ticks[(int)SamplerPhase.Network] += slowestTicks;
        ticks[(int)SamplerPhase.Handoff] += totalTicks - slowestTicks;
    }
}
