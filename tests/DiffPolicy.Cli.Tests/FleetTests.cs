using System.Diagnostics;
using System.Text.RegularExpressions;
using DiffPolicy.Control;
using DiffPolicy.Policy;
using DiffPolicy.Sim.PushT.Robot;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// Several robots: the diffusion policy samples their requests together, each as if alone; behind a broker, robots
/// keep a plan when one of two worker processes dies.
/// </summary>
public sealed partial class FleetTests(ITestOutputHelper output) : IDisposable
{
    readonly TinyCheckpoint checkpoint = new();

    public void Dispose() => checkpoint.Dispose();

    static float[] Observations(int robot) => Enumerable.Range(0, 36).Select(i => (float)((37 * robot + 11 * i) % 512)).ToArray();

    /// <summary>Collects the outcomes of requests handed in at once, and hands in a late one after a few network calls.</summary>
    sealed class Feed(List<PredictionRequest> first, PredictionRequest late, int lateAfter) : IPredictionFeed
    {
        int calls;

        public Dictionary<int, PredictionOutcome> Outcomes { get; } = [];
        public int MostRunning { get; private set; }

        public IReadOnlyList<PredictionRequest> Take(int running)
        {
            MostRunning = Math.Max(MostRunning, running);
            return ++calls switch
            {
                1 => first,
                var n when n == lateAfter => [late],
                _ => [],
            };
        }

        public void Finished(PredictionOutcome outcome) => Outcomes[(int)outcome.Request.Tag!] = outcome;
    }

    /// <summary>
    /// Four robots' requests in one ParaDiGMS run, one of them joining late, each with its own observations and noise
    /// generator: every chunk, in robot units, is the chunk <see cref="DiffusionPolicy.PredictActions"/> gives alone from
    /// the same generator state, to 1e-5 of the action range.
    /// </summary>
    [Fact]
    public void Each_robots_chunk_in_a_batch_equals_its_chunk_alone()
    {
        using var policy = checkpoint.Load();
        var generators = Enumerable.Range(0, 4).Select(r => new Generator((ulong)(50 + r))).ToList();
        var requests = Enumerable.Range(0, 4).Select(r => new PredictionRequest(new Dictionary<string, float[]> { [policy.Config.ObsKey] = Observations(r) }, generators[r]) { Tag = r }).ToList();
        var feed = new Feed(requests[..3], requests[3], lateAfter: 3);
        policy.Serve(feed);
        Assert.True(feed.MostRunning >= 3, $"at most {feed.MostRunning} ran together");

        for (var r = 0; r < 4; r++)
        {
            using var again = new Generator((ulong)(50 + r));
            var alone = policy.PredictActions(Observations(r), 1, again);
            var batched = feed.Outcomes[r].Chunk!;
            double difference = alone.Actions.Zip(batched.Actions, (a, b) => Math.Abs(a - b)).Max();
            output.WriteLine($"robot {r}: {batched.Stats.Iterations} iterations (alone {alone.Stats.Iterations}), largest batch {batched.Stats.Batch}, max |Δ| {difference:E2} px");
            Assert.Equal(Policy.Sampling.SampleStatus.Converged, feed.Outcomes[r].Status);
            Assert.True(batched.Certificate!.Converged);
            Assert.InRange(difference, 0, 1e-5 * 512);
        }
        generators.ForEach(g => g.Dispose());
    }

    [GeneratedRegex(@"broker: robots connect to (tcp://\S+), workers to (tcp://\S+)")]
    private static partial Regex BrokerLine();

    [GeneratedRegex(@"serving .* as a worker of")]
    private static partial Regex WorkerLine();

    static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "diffpolicy.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    static Match WaitForLine(Process process, Regex pattern, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(180);
        while (DateTime.UtcNow < deadline && process.StandardOutput.ReadLine() is { } line)
        {
            if (pattern.Match(line) is { Success: true } match) return match;
        }
        process.Kill(entireProcessTree: true);
        Assert.Fail($"{what} did not start: {process.StandardError.ReadToEnd()}");
        return null!;
    }

    /// <summary>
    /// A broker process, two <c>serve --worker-of</c> processes behind it and four real-time PushT robots sending
    /// stateless requests; one worker is killed (SIGKILL) once every robot has had two chunks. Requests it held are lost;
    /// each robot asks again after its 1 s request timeout while the rest of its chunk carries it, and the other worker
    /// answers: every robot gets a chunk it asked for after the kill, and none is without a plan for longer than its
    /// timed-out requests, refusals and slowest round trip account for. The bound counts events and round trips the robot
    /// measured instead of assuming a machine speed, so load does not break it (at load 20 round trips reach 1.7 s and
    /// plans run out for 2 s); unloaded it is one timeout and a round trip of tens of ms, about 1.3 s.
    /// </summary>
    [Fact]
    public void Killing_one_of_two_workers_leaves_every_robot_served_and_no_plan_gap_beyond_its_timeouts_and_round_trips()
    {
        using var broker = Start("broker", "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*");
        var workers = new List<Process>();
        try
        {
            var endpoints = WaitForLine(broker, BrokerLine(), "the broker");
            string frontend = endpoints.Groups[1].Value, backend = endpoints.Groups[2].Value;
            for (var i = 0; i < 2; i++)
                workers.Add(Start("serve", "--checkpoint", checkpoint.Directory, "--worker-of", backend, "--threads", "1"));
            foreach (var worker in workers) WaitForLine(worker, WorkerLine(), "a worker");

            const int Robots = 4, Steps = 100;
            var options = Enumerable.Range(0, Robots).Select(r => new PushTRobotOptions { Name = $"fleet-{r}", Mode = RobotMode.RealTime, Stateless = true }).ToArray();
            var episodes = new RobotEpisode?[Robots];
            var failures = new Exception?[Robots];
            var policies = new Protocol.PolicyMetadata?[Robots];
            // Per robot, each chunk's (asked, arrived) times on the test's clock.
            var chunkTimes = Enumerable.Range(0, Robots).Select(_ => new List<(double Asked, double Arrived)>()).ToArray();
            using var connected = new Barrier(Robots);
            using var everyRobotServed = new CountdownEvent(Robots);
            var clock = Stopwatch.StartNew();
            var threads = Enumerable.Range(0, Robots).Select(r => new Thread(() =>
            {
                var waited = false;
                try
                {
                    using var robot = new PushTRobot(frontend, options[r]);
                    policies[r] = robot.Connect().Policy;
                    waited = true;
                    connected.SignalAndWait();
                    episodes[r] = robot.RunEpisode(1000 + r, Steps, chunkArrived: timing =>
                    {
                        var now = clock.Elapsed.TotalSeconds;
                        lock (chunkTimes[r])
                        {
                            chunkTimes[r].Add((now - timing.LatencyMs / 1000, now));
                            if (chunkTimes[r].Count == 2) everyRobotServed.Signal();
                        }
                    });
                }
                catch (Exception ex)
                {
                    failures[r] = ex;
                    if (!waited) connected.RemoveParticipant();
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            // A hang guard, not a timing: on any machine the robots have their chunks long before.
            var served = everyRobotServed.Wait(TimeSpan.FromMinutes(5));
            var killedAt = clock.Elapsed.TotalSeconds;
            workers[0].Kill(entireProcessTree: true);
            threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromMinutes(5)), "a robot did not finish"));
            Assert.True(served, $"not every robot had two chunks: {string.Join("; ", failures.Where(f => f is not null))}");

            for (var r = 0; r < Robots; r++)
            {
                Assert.Null(failures[r]);
                var run = episodes[r]!;
                var dt = policies[r]!.Dt;
                // The first chunk's round trip includes the workers' warm-up, before any plan existed to run out.
                var slowest = run.Timings.Skip(1).Select(t => t.LatencyMs / 1000).DefaultIfEmpty(0).Max();
                // Without a plan for at most: each timed-out request's timeout and the tick that notices it, each request refused
                // as overloaded a round trip and a tick, and the answered request's round trip and the tick that uses it (+1
                // for where the run starts between ticks).
                var seconds = run.TimedOut * (options[r].RequestTimeout.TotalSeconds + dt) + run.Overloaded * (slowest + dt) + slowest;
                var bound = (int)Math.Ceiling(seconds / dt) + 2;
                output.WriteLine($"robot {r}: {run.Chunks} chunks, {run.DeadlineMisses} misses, longest without a plan {run.LongestMissRun} ticks (bound {bound}: "
                    + $"{run.TimedOut} timed out, {run.Overloaded} overloaded, slowest round trip {slowest * 1000:0} ms), {run.StartupTicks} start-up ticks, "
                    + $"{chunkTimes[r].Count(c => c.Asked > killedAt)} chunks asked after the kill");
                Assert.Equal(Steps, run.Episode.Steps.Count);
                Assert.InRange(run.LongestMissRun, 0, bound);
                Assert.Contains(chunkTimes[r], c => c.Asked > killedAt);
            }
        }
        finally
        {
            foreach (var worker in workers)
            {
                if (!worker.HasExited) worker.Kill(entireProcessTree: true);
                worker.Dispose();
            }
            if (!broker.HasExited) broker.Kill(entireProcessTree: true);
        }
    }
}
