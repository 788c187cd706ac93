using System.Diagnostics;
using DiffPolicy.Cli.Commands;
using DiffPolicy.Control;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Robot;
using HdrHistogram;

namespace DiffPolicy.Cli.Soak;

/// <summary>
/// The real-time closed loop for a while: a policy server on loopback TCP and <see cref="Robots"/> PushT robots in real
/// time in this process, each on its own thread with its own seeds (robot r of N runs seeds SeedStart + e·N + r),
/// episodes back to back; chunk latency, slack and misses in HdrHistograms per robot and in total, the process's
/// memory, native tensors (as counted with no chunk running) and GC counts sampled every few seconds.
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

    /// <summary>Real-time robots running at once, each its own connection.</summary>
    public int Robots { get; init; } = 1;

    /// <summary>The robots send stateless <c>infer</c> requests instead of a session's observations.</summary>
    public bool Stateless { get; init; }

    /// <summary><c>deadline_ms</c> the robots send with each request (anytime answers); null sends none.</summary>
    public double? DeadlineMs { get; init; }

    /// <summary>Requests the server samples together at most.</summary>
    public int MaxBatch { get; init; } = PolicyServerOptions.DefaultMaxBatch;

    /// <summary>
    /// Runs to the end, or to the end of the episodes during which <paramref name="cancel"/> is set;
    /// <paramref name="progress"/> gets every process sample and the chunk latencies so far.
    /// </summary>
    public SoakReport Run(string sampler, Action<ProcessSample, Percentiles>? progress = null, CancellationToken cancel = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Robots, 1);
        using var server = new BackgroundServer(policy, new PolicyServerOptions { Bind = "tcp://127.0.0.1:*", MaxBatch = MaxBatch });
        var tallies = Enumerable.Range(0, Robots).Select(r => new RobotTally(Robots == 1 ? "soak" : $"soak-{r}")).ToList();
        var robots = tallies.Select(t => new PushTRobot(server.Endpoint, new PushTRobotOptions
        {
            Name = t.Name,
            Mode = RobotMode.RealTime,
            Lead = Lead,
            Stateless = Stateless,
            DeadlineMs = DeadlineMs,
        })).ToList();
        try
        {
            double dt = 0;
            foreach (var robot in robots) dt = robot.Connect().Policy.Dt;
            clock.Start();
            Sample();
            using var timer = new Timer(_ =>
            {
                var sample = Sample();
                Percentiles sofar;
                lock (gate) sofar = Percentiles.Of(latency);
                progress?.Invoke(sample, sofar);
            }, null, SampleEvery, SampleEvery);

            var threads = tallies.Select((tally, r) => new Thread(() => Drive(robots[r], tally, r, dt, cancel)) { IsBackground = true, Name = tally.Name }).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            timer.Dispose();
            Sample();
            if (tallies.FirstOrDefault(t => t.Failure is not null) is { } failed)
            {
                throw new InvalidOperationException($"robot {failed.Name} failed: {failed.Failure!.Message}", failed.Failure);
            }
            lock (gate)
            {
                var elapsed = clock.Elapsed.TotalSeconds;
                var warmup = TimeSpan.FromSeconds(Math.Min(60, duration.TotalSeconds / 5));
                var perRobot = tallies.Select(t => t.Report(elapsed, dt)).ToList();
                return new SoakReport(
                    sampler, server.Endpoint, elapsed, warmup.TotalSeconds, tallies.Sum(t => t.Episodes), tallies.Sum(t => t.Ticks), chunks, misses,
                    tallies.Sum(t => t.Startup), late, tallies.Sum(t => t.Dropped), tallies.Sum(t => t.Rehellos),
                    Percentiles.Of(latency), Percentiles.Of(steady), Percentiles.Of(infer), Percentiles.Of(slack), Memory(warmup),
                    $"{Environment.ProcessorCount} cores, {Environment.OSVersion}", samples.ToList(), chunkSamples.ToList(),
                    tallies.Sum(t => t.Overloaded), perRobot.Max(r => r.LongestPlanlessMs), perRobot);
            }
        }
        finally
        {
            foreach (var robot in robots) robot.Dispose();
        }
    }

    void Drive(PushTRobot robot, RobotTally tally, int index, double dt, CancellationToken cancel)
    {
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                var ticksLeft = (int)((duration - clock.Elapsed).TotalSeconds / dt);
                if (ticksLeft < 10) break;
                var run = robot.RunEpisode(SeedStart + (long)tally.Episodes * Robots + index, Math.Min(300, ticksLeft), chunkArrived: timing => Record(tally, timing));
                lock (gate)
                {
                    tally.Episodes++;
                    tally.Ticks += run.Episode.Steps.Count;
                    tally.Startup += run.StartupTicks;
                    tally.Dropped += run.DroppedActions;
                    tally.Rehellos += run.Rehellos;
                    tally.Misses += run.DeadlineMisses;
                    tally.Overloaded += run.Overloaded;
                    tally.LongestMissRun = Math.Max(tally.LongestMissRun, run.LongestMissRun);
                    misses += run.DeadlineMisses;
                }
            }
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            tally.Failure = ex;
        }
    }

    void Record(RobotTally tally, ChunkTiming timing)
    {
        lock (gate)
        {
            chunks++;
            tally.Chunks++;
            latency.RecordValue(Microseconds(timing.LatencyMs));
            tally.Latency.RecordValue(Microseconds(timing.LatencyMs));
            infer.RecordValue(Microseconds(timing.InferMs));
            if (timing.SlackMs is { } s)
            {
                steady.RecordValue(Microseconds(timing.LatencyMs));
                tally.Steady.RecordValue(Microseconds(timing.LatencyMs));
                if (s >= 0)
                {
                    slack.RecordValue(Microseconds(s));
                }
                else
                {
                    late++;
                    tally.Late++;
                }
            }
            chunkSamples.Add(new ChunkSample(clock.Elapsed.TotalSeconds, timing.LatencyMs, timing.InferMs, timing.SlackMs));
        }
    }

    /// <summary>One robot's counts, guarded by the run's lock.</summary>
    sealed class RobotTally(string name)
    {
        public string Name { get; } = name;
        public LongHistogram Latency { get; } = new(HighestMicroseconds, 3);
        public LongHistogram Steady { get; } = new(HighestMicroseconds, 3);
        public int Episodes { get; set; }
        public long Ticks { get; set; }
        public long Chunks { get; set; }
        public long Startup { get; set; }
        public long Dropped { get; set; }
        public long Rehellos { get; set; }
        public long Misses { get; set; }
        public long Late { get; set; }
        public long Overloaded { get; set; }
        public int LongestMissRun { get; set; }
        public Exception? Failure { get; set; }

        public RobotSoakReport Report(double seconds, double dt) => new(
            Name, Episodes, Ticks, Chunks, seconds > 0 ? Chunks / seconds : 0, Misses, Late, Overloaded, LongestMissRun * dt * 1000,
            Percentiles.Of(Latency), Percentiles.Of(Steady));
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
