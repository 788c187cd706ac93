using DiffPolicy.Cli.Commands;
using DiffPolicy.Control;
using DiffPolicy.Sim.PushT.Robot;

namespace DiffPolicy.Cli.Tests;

/// <summary>The simulated PushT robot against a real policy server on loopback TCP.</summary>
public class PushTRobotTests
{
    static RobotEpisode[] Run(RobotMode mode, TimeSpan policyDelay, int episodes, int steps)
    {
        using var server = new BackgroundServer(new KeypointEchoPolicy(policyDelay), "tcp://127.0.0.1:*");
        using var robot = new PushTRobot(server.Endpoint, new PushTRobotOptions { Mode = mode });
        robot.Connect();
        return Enumerable.Range(0, episodes).Select(i => robot.RunEpisode(7 + i, steps)).ToArray();
    }

    [Fact]
    public async Task Lockstep_asks_once_per_chunk_and_misses_nothing()
    {
        var runs = await Task.Run(() => Run(RobotMode.Lockstep, TimeSpan.Zero, episodes: 2, steps: 20)).WaitAsync(TimeSpan.FromSeconds(60));
        foreach (var run in runs)
        {
            Assert.Equal(20, run.Episode.Steps.Count);
            Assert.Equal(3, run.Chunks);
            Assert.Equal(0, run.DeadlineMisses);
            // Action i of a chunk asked at step s targets the agent observed at s, shifted by 4·(i + 1).
            var first = run.Episode.Steps[0];
            Assert.Equal(first.Keypoints[16] + 4, run.Episode.Steps[0].Action.X, 3);
            Assert.Equal(first.Keypoints[16] + 4 * 8, run.Episode.Steps[7].Action.X, 3);
            Assert.Equal(run.Episode.Steps[8].Keypoints[16] + 4, run.Episode.Steps[8].Action.X, 3);
        }
    }

    [Fact]
    public async Task Real_time_with_a_fast_policy_executes_chunks_without_misses()
    {
        var runs = await Task.Run(() => Run(RobotMode.RealTime, TimeSpan.Zero, episodes: 2, steps: 30)).WaitAsync(TimeSpan.FromSeconds(60));
        foreach (var run in runs)
        {
            Assert.Equal(30, run.Episode.Steps.Count);
            Assert.True(run.Chunks >= 30 / 8, $"only {run.Chunks} chunks");
            Assert.True(run.DeadlineMisses < 30 / 3, $"{run.DeadlineMisses} misses with a policy that answers at once");
            Assert.True(run.StartupTicks < 30 / 3, $"{run.StartupTicks} ticks before the first chunk");
            Assert.All(run.Timings.Where(t => t.SlackMs is not null), t => Assert.True(t.SlackMs > 0, $"slack {t.SlackMs} ms"));
        }
    }

    static string Latencies(RobotEpisode run) => string.Join(", ", run.Timings.Select(t => $"{t.LatencyMs:F0}"));

    /// <remarks>
    /// Real time runs on the wall clock, so on a loaded machine a round trip can take longer than the policy's delay and
    /// ticks can be late (skipped steps). The claims are therefore made about the round trips as measured: a chunk that
    /// came within the lead must have come before the plan ran out, and a miss needs a chunk that did not.
    /// </remarks>
    [Fact]
    public async Task Real_time_rides_out_inference_slower_than_half_the_action_horizon_on_the_predicted_rest()
    {
        // Asked when 7 of its 15 actions remain (8 begun), a chunk that takes 0.45 s arrives 4–5 steps later, before
        // the previous one runs out: no miss, although 8-action chunks would allow only 4 steps for it.
        var runs = await Task.Run(() => Run(RobotMode.RealTime, TimeSpan.FromSeconds(0.45), episodes: 1, steps: 60)).WaitAsync(TimeSpan.FromSeconds(90));
        var run = runs[0];
        Assert.True(run.Chunks >= 3, $"only {run.Chunks} chunks");
        Assert.True(run.StartupTicks + run.SkippedSteps >= 4, $"{run.StartupTicks} startup ticks ({run.SkippedSteps} skipped) for a 0.45 s first chunk");
        Assert.True(run.DroppedActions >= 4 * run.Chunks, $"{run.DroppedActions} late actions dropped of {run.Chunks} chunks");
        // 0.7 s of plan were left when it asked; a tick up to 0.1 s late leaves 0.6 s.
        const double InTimeMs = 600;
        Assert.All(run.Timings.Skip(1).Where(t => t.LatencyMs < InTimeMs), t => Assert.True(t.SlackMs > 0, $"a chunk with a {t.LatencyMs:F0} ms round trip came {-t.SlackMs:F0} ms after the plan ran out"));
        Assert.True(run.DeadlineMisses == 0 || run.Timings.Skip(1).Any(t => t.LatencyMs >= InTimeMs),
            $"{run.DeadlineMisses} misses although every round trip was under {InTimeMs} ms: {Latencies(run)}");
    }

    [Fact]
    public async Task Real_time_with_a_policy_slower_than_the_predicted_rest_counts_misses()
    {
        // Asked when 7 actions remain, a chunk that takes 0.95 s arrives 9–10 steps later: the robot runs dry first.
        var runs = await Task.Run(() => Run(RobotMode.RealTime, TimeSpan.FromSeconds(0.95), episodes: 1, steps: 60)).WaitAsync(TimeSpan.FromSeconds(90));
        var run = runs[0];
        Assert.True(run.Chunks >= 2, $"only {run.Chunks} chunks: {Latencies(run)}");
        Assert.True(run.DeadlineMisses > 0, "a policy slower than the lead must make the robot miss deadlines");
        Assert.True(run.StartupTicks + run.SkippedSteps >= 9, $"{run.StartupTicks} startup ticks ({run.SkippedSteps} skipped) for a 0.95 s first chunk");
        Assert.True(run.DroppedActions >= 9 * run.Chunks, $"{run.DroppedActions} late actions dropped of {run.Chunks} chunks");
        Assert.Contains(run.Timings, t => t.SlackMs < 0);
        // A chunk's 15 actions outlast a round trip under 1.4 s (a tick late): then some of them run. On a machine so
        // loaded that every round trip took longer, every action comes too late and the robot only holds.
        if (run.Timings.Any(t => t.LatencyMs < 1400))
            Assert.True(run.DeadlineMisses + run.StartupTicks < 60, $"no action was executed: {Latencies(run)}");
    }

    [Theory]
    [InlineData(RobotMode.Lockstep)]
    [InlineData(RobotMode.RealTime)]
    public async Task A_restarted_server_costs_a_re_hello_and_the_robot_goes_on(RobotMode mode)
    {
        var runs = await Task.Run(() =>
        {
            var first = new BackgroundServer(new KeypointEchoPolicy(), "tcp://127.0.0.1:*");
            var endpoint = first.Endpoint;
            using var robot = new PushTRobot(endpoint, new PushTRobotOptions { Mode = mode });
            robot.Connect();
            var before = robot.RunEpisode(1, 20);
            first.Dispose();
            using var second = Rebind(endpoint);
            var after = robot.RunEpisode(2, 20);
            return (before, after, second.Server.Stats.Chunks);
        }).WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(0, runs.before.Rehellos);
        Assert.Equal(1, runs.after.Rehellos);
        Assert.Equal(20, runs.after.Episode.Steps.Count);
        Assert.True(runs.Chunks >= 2, $"{runs.Chunks} chunks from the restarted server");
    }

    // NetMQ releases a closed TCP port asynchronously.
    static BackgroundServer Rebind(string endpoint)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new BackgroundServer(new KeypointEchoPolicy(), endpoint);
            }
            catch (NetMQ.NetMQException) when (attempt < 50)
            {
                Thread.Sleep(100);
            }
        }
    }
}
