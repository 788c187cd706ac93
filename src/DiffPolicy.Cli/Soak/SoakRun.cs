using System.Diagnostics;
using DiffPolicy.Cli.Commands;
using DiffPolicy.Control;
using DiffPolicy.Sim.PushT.Robot;
using DiffPolicy.Sim.PushT.Task;
using HdrHistogram;

namespace DiffPolicy.Cli.Soak;

/// <summary>
/// The real-time closed loop for a while: a policy server on loopback TCP and the PushT robot in real time in this
/// process, episodes back to back with a new seed each, chunk latency, slack and misses in HdrHistograms, the
/// process's memory, native tensors (as counted between chunks) and GC counts sampled every few seconds.
/// </summary>
internal sealed class SoakRun(IChunkPolicy served, TimeSpan duration)
{
    readonly TensorCountingPolicy policy = new(served);

    const long HighestMicroseconds = 3_600_000_000;

    readonly object gate = new();
    readonly LongHistogram latency = new(HighestMicroseconds, 3), steady = new(HighestMicroseconds, 3), infer = new(HighestMicroseconds, 3), slack = new(HighestMicroseconds, 3);
    readonly List<ProcessSample> samples = [];
    readonly List<ChunkSample> chunkSamples = [];
    readonly Stopwatch clock = new();
    long chunks, late, misses;

    public TimeSpan SampleEvery { get; init; } = TimeSpan.FromSeconds(2);

    public long SeedStart { get; init; } = 200_000;

    public int? Lead { get; init; }

    /// <summary>
    /// Runs to the end, or to the end of the episode during which <paramref name="cancel"/> is set;
    /// <paramref name="progress"/> gets every process sample and the chunk latencies so far.
    /// </summary>
    public SoakReport Run(string sampler, Action<ProcessSample, Percentiles>? progress = null, CancellationToken cancel = default)
    {
        using var server = new BackgroundServer(policy, "tcp://127.0.0.1:*");
        using var robot = new PushTRobot(server.Endpoint, new PushTRobotOptions { Name = "soak", Mode = RobotMode.RealTime, Lead = Lead });
        var dt = robot.Connect().Policy.Dt;
        clock.Start();
        Sample();
        using var timer = new Timer(_ =>
        {
            var sample = Sample();
            Percentiles sofar;
            lock (gate) sofar = Percentiles.Of(latency);
            progress?.Invoke(sample, sofar);
        }, null, SampleEvery, SampleEvery);

        var episodes = 0;
        long ticks = 0, startup = 0, dropped = 0, rehellos = 0;
        while (!cancel.IsCancellationRequested)
        {
            var ticksLeft = (int)((duration - clock.Elapsed).TotalSeconds / dt);
            if (ticksLeft < 10) break;
            var run = robot.RunEpisode(SeedStart + episodes, Math.Min(300, ticksLeft), chunkArrived: Record);
            episodes++;
            ticks += run.Episode.Steps.Count;
            startup += run.StartupTicks;
            dropped += run.DroppedActions;
            rehellos += run.Rehellos;
            Interlocked.Add(ref misses, run.DeadlineMisses);
        }
        timer.Dispose();
        Sample();
        lock (gate)
        {
            var warmup = TimeSpan.FromSeconds(Math.Min(60, duration.TotalSeconds / 5));
            return new SoakReport(
                sampler, server.Endpoint, clock.Elapsed.TotalSeconds, warmup.TotalSeconds, episodes, ticks, chunks, misses, startup, late, dropped, rehellos,
                Percentiles.Of(latency), Percentiles.Of(steady), Percentiles.Of(infer), Percentiles.Of(slack), Memory(warmup), $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
                samples.ToList(), chunkSamples.ToList());
        }
    }

    void Record(ChunkTiming timing)
    {
        lock (gate)
        {
            chunks++;
            latency.RecordValue(Microseconds(timing.LatencyMs));
            infer.RecordValue(Microseconds(timing.InferMs));
            if (timing.SlackMs is { } s)
            {
                steady.RecordValue(Microseconds(timing.LatencyMs));
                if (s >= 0) slack.RecordValue(Microseconds(s));
                else late++;
            }
            chunkSamples.Add(new ChunkSample(clock.Elapsed.TotalSeconds, timing.LatencyMs, timing.InferMs, timing.SlackMs));
        }
    }

    static long Microseconds(double ms) => Math.Clamp((long)Math.Round(ms * 1000), 0, HighestMicroseconds);

    ProcessSample Sample()
    {
        using var self = Process.GetCurrentProcess();
        lock (gate)
        {
            var sample = new ProcessSample(
                clock.Elapsed.TotalSeconds, self.WorkingSet64 / (1024.0 * 1024.0), policy.LiveTensors,
                GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), chunks, Interlocked.Read(ref misses));
            samples.Add(sample);
            return sample;
        }
    }

    MemorySummary Memory(TimeSpan warmup)
    {
        var first = samples[0];
        var warm = samples.FirstOrDefault(s => s.Seconds >= warmup.TotalSeconds) ?? samples[^1];
        var last = samples[^1];
        return new MemorySummary(
            first.RssMb, warm.RssMb, last.RssMb, last.RssMb - warm.RssMb, first.Tensors, warm.Tensors, last.Tensors, last.Tensors - warm.Tensors,
            last.Gen0 - first.Gen0, last.Gen1 - first.Gen1, last.Gen2 - first.Gen2);
    }
}
