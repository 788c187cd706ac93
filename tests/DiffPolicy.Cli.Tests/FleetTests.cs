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
    /// stateless requests; one worker is killed (SIGKILL) mid-episode. Requests it held are lost; each robot asks again
    /// after its 1 s request timeout while the rest of its chunk carries it, and the other worker answers: no robot is
    /// without a plan for more than 1 s, and every robot keeps getting chunks after the kill.
    /// </summary>
    [Fact]
    public void Killing_one_of_two_workers_leaves_no_robot_without_a_plan_for_more_than_a_second()
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
            var episodes = new RobotEpisode?[Robots];
            var failures = new Exception?[Robots];
            var chunkTimes = Enumerable.Range(0, Robots).Select(_ => new List<double>()).ToArray();
            var clock = Stopwatch.StartNew();
            var threads = Enumerable.Range(0, Robots).Select(r => new Thread(() =>
            {
                try
                {
                    using var robot = new PushTRobot(frontend, new PushTRobotOptions { Name = $"fleet-{r}", Mode = RobotMode.RealTime, Stateless = true });
                    robot.Connect();
                    episodes[r] = robot.RunEpisode(1000 + r, Steps, chunkArrived: _ => { lock (chunkTimes[r]) chunkTimes[r].Add(clock.Elapsed.TotalSeconds); });
                }
                catch (Exception ex)
                {
                    failures[r] = ex;
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            Thread.Sleep(TimeSpan.FromSeconds(4));
            var killedAt = clock.Elapsed.TotalSeconds;
            workers[0].Kill(entireProcessTree: true);
            threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(120)), "a robot did not finish"));

            for (var r = 0; r < Robots; r++)
            {
                Assert.Null(failures[r]);
                var run = episodes[r]!;
                output.WriteLine($"robot {r}: {run.Chunks} chunks, {run.DeadlineMisses} misses, longest without a plan {run.LongestMissRun} ticks, {run.Overloaded} overloaded, {run.StartupTicks} start-up ticks");
                Assert.Equal(Steps, run.Episode.Steps.Count);
                Assert.InRange(run.LongestMissRun, 0, 10);   // 10 ticks of 100 ms
                Assert.Contains(chunkTimes[r], t => t > killedAt + 1.5);
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
