using System.Diagnostics;
using CsCheck;
using DiffPolicy.Protocol;
using NetMQ;
using NetMQ.Sockets;
using Xunit.Abstractions;

namespace DiffPolicy.Control.Tests;

public class HostileInputTests(ITestOutputHelper output)
{
    /// <summary>Frames per run; DIFFPOLICY_FUZZ_FRAMES=100000 for a long run.</summary>
    static readonly int FrameCount = int.TryParse(Environment.GetEnvironmentVariable("DIFFPOLICY_FUZZ_FRAMES"), out var n) ? n : 10_000;

    [Fact]
    public async Task After_a_flood_of_hostile_frames_the_server_still_serves_a_valid_robot_at_normal_latency()
    {
        var policy = new EchoPolicy();
        using var run = new ServerRun(policy);
        using var good = new TestRobot(run.Endpoint, "good");
        good.Hello();
        long step = 0;
        var before = Latencies(good, ref step, 50);

        // The valid robot keeps stepping while the hostile clients send; its latency is measured throughout.
        using var stopGood = new CancellationTokenSource();
        var during = new List<double>();
        var goodStep = step;
        var goodLoop = Task.Factory.StartNew(() =>
        {
            while (!stopGood.IsCancellationRequested)
            {
                during.AddRange(Latencies(good, ref goodStep, 1));
            }
        }, TaskCreationOptions.LongRunning);

        var replies = new Dictionary<string, long>();
        var sent = 0;
        var clock = Stopwatch.StartNew();
        using (var evil = new DealerSocket(run.Endpoint))
        using (var stranger = new DealerSocket(run.Endpoint))
        {
            evil.SendFrame(MessageCodec.Encode(new Hello(MessageCodec.ProtocolVersion, "evil")));
            Assert.True(evil.TryReceiveFrameBytes(TimeSpan.FromSeconds(5), out var welcome));
            Assert.IsType<Welcome>(MessageCodec.Decode(welcome));
            HostileFrames.Any.Sample(frame =>
            {
                // Most frames come from a robot with a session, so they reach the observation checks; some from a stranger.
                var socket = sent % 10 == 9 ? stranger : evil;
                socket.SendFrame(sent % 1000 == 500 ? HostileFrames.Oversized() : frame);
                if (sent % 2000 == 1000)
                {
                    socket.SendMoreFrame(frame).SendFrame(frame);
                }
                sent++;
                Drain(evil, replies, TimeSpan.Zero);
                Drain(stranger, replies, TimeSpan.Zero);
            }, iter: FrameCount, threads: 1);
            Drain(evil, replies, TimeSpan.FromSeconds(1));
            Drain(stranger, replies, TimeSpan.FromSeconds(1));
        }
        var fuzzSeconds = clock.Elapsed.TotalSeconds;
        stopGood.Cancel();
        await goodLoop.WaitAsync(TimeSpan.FromSeconds(10));

        var after = Latencies(good, ref goodStep, 50);
        using (var newcomer = new TestRobot(run.Endpoint, "newcomer"))
        {
            newcomer.Hello();
            newcomer.Step(episode: 0, step: 0, 1, 1);
        }

        var stats = run.Server.Stats;
        output.WriteLine($"{sent} hostile frames in {fuzzSeconds:F1} s; server: {stats.Frames} frames, {stats.TotalErrors} refused " +
            $"({string.Join(", ", stats.Errors.OrderBy(e => e.Key).Select(e => $"{e.Key} {e.Value}"))}), {stats.SuppressedErrorReplies} refused without reply, " +
            $"{stats.Superseded} superseded, {stats.Chunks} chunks");
        output.WriteLine($"replies to the hostile clients: {string.Join(", ", replies.OrderBy(e => e.Key).Select(e => $"{e.Key} {e.Value}"))}");
        output.WriteLine($"valid robot step latency, ms: before p50 {SampleQuantiles.R7(before, 50):F2} max {before.Max():F2}; during p50 {SampleQuantiles.R7(during, 50):F2} " +
            $"p99 {SampleQuantiles.R7(during, 99):F2} max {during.DefaultIfEmpty().Max():F2} ({during.Count} steps); after p50 {SampleQuantiles.R7(after, 50):F2} max {after.Max():F2}");

        Assert.True(stats.Frames >= sent);
        Assert.True(stats.TotalErrors >= sent / 2, $"only {stats.TotalErrors} of {sent} frames were refused");
        // Every refused frame got an error reply or was counted as refused without one (over its connection's budget).
        Assert.True(replies.GetValueOrDefault("error") + stats.SuppressedErrorReplies >= stats.TotalErrors,
            $"{replies.GetValueOrDefault("error")} error replies and {stats.SuppressedErrorReplies} suppressed for {stats.TotalErrors} refused frames");
        // Two hostile connections, each at most 100 error replies per started second.
        Assert.InRange(replies.GetValueOrDefault("error"), 1, 2 * 100 * ((long)Math.Ceiling(fuzzSeconds) + 2));
        Assert.True(after.Max() < 2000, $"after the flood a step took {after.Max():F0} ms");
        Assert.Equal(0, stats.Errors.GetValueOrDefault(ErrorCodes.PolicyFailed));
    }

    [Fact]
    public void A_connection_that_floods_gets_its_error_replies_for_the_second_and_the_rest_is_counted()
    {
        using var run = new ServerRun(new EchoPolicy());
        using var flood = new DealerSocket(run.Endpoint);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 1000; i++)
        {
            flood.SendFrame([0xc1, (byte)i]);   // 0xc1 is never used in MessagePack
        }
        var replies = new Dictionary<string, long>();
        // On a loaded machine the server may not have read every frame when the replies pause: wait for its count.
        do
        {
            Drain(flood, replies, TimeSpan.FromSeconds(0.5));
        }
        while (Rejected(run.Server.Stats) < 1000 && clock.Elapsed < TimeSpan.FromSeconds(30));
        var flooding = clock.Elapsed;
        Drain(flood, replies, TimeSpan.FromSeconds(0.5)); // replies to the last frames counted
        var stats = run.Server.Stats;
        Assert.Equal(1000, Rejected(stats));
        if (flooding < TimeSpan.FromSeconds(1))
        {
            Assert.Equal(100, replies.GetValueOrDefault("error"));
            Assert.Equal(900, stats.SuppressedErrorReplies);
        }
        Assert.Equal(1000, replies.GetValueOrDefault("error") + stats.SuppressedErrorReplies);

        // A second later the connection's budget is back.
        Thread.Sleep(TimeSpan.FromSeconds(1.1));
        flood.SendFrame([0xc1]);
        Assert.True(flood.TryReceiveFrameBytes(TimeSpan.FromSeconds(5), out var reply));
        Assert.IsType<ProtocolError>(MessageCodec.Decode(reply));
    }

    static long Rejected(ServerStats stats) => stats.Errors.GetValueOrDefault(ErrorCodes.BadMessage) + stats.Errors.GetValueOrDefault(ErrorCodes.BadFrame);

    static List<double> Latencies(TestRobot robot, ref long step, int count)
    {
        var result = new List<double>(count);
        for (var i = 0; i < count; i++, step++)
        {
            var started = Stopwatch.GetTimestamp();
            Assert.Equal(step, robot.Step(episode: 0, step, step, 0).StartStep);
            result.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return result;
    }

    static void Drain(DealerSocket socket, Dictionary<string, long> replies, TimeSpan wait)
    {
        while (socket.TryReceiveFrameBytes(wait, out var frame))
        {
            var kind = MessageCodec.Decode(frame) switch
            {
                ProtocolError => "error",
                ActionChunk => "actions",
                var other => other.GetType().Name,
            };
            replies[kind] = replies.GetValueOrDefault(kind) + 1;
        }
    }
}
