using DiffPolicy.Protocol;

namespace DiffPolicy.Control.Tests;

/// <summary>
/// Several robots on one server: stateless <c>infer</c> requests, earliest-deadline-first order, and the
/// <c>overloaded</c> answer for a request that cannot be served before it is due (docs/protocol.md).
/// </summary>
public sealed class FleetServingTests
{
    static Dictionary<string, float[]> Window(float x0, float y0, float x1, float y1) => new() { ["agent_pos"] = [x0, y0, x1, y1] };

    [Fact]
    public void A_stateless_infer_needs_no_session_and_is_answered_from_its_own_window()
    {
        var policy = new EchoPolicy();
        using var server = new ServerRun(policy);
        using var robot = new TestRobot(server.Endpoint, "anon");
        Assert.True(robot.Link.Send(new InferRequest(7, 3, 12, 1.5, Window(1, 2, 30, 40))));
        var chunk = robot.Expect<ActionChunk>();
        Assert.Equal((7UL, 3L, 12L, 1.5), (chunk.ObsSeq, chunk.Episode, chunk.StartStep, chunk.ObsTime));
        // EchoPolicy answers from the newest observation of the window: the robot's second pair.
        Assert.Equal(30f, chunk.Values[0]);
        Assert.Equal(40f, chunk.Values[1]);
        var window = Assert.Single(policy.Windows);
        Assert.True(window.Stateless);
        Assert.Equal([1f, 2, 30, 40], window.Data["agent_pos"]);
        Assert.Empty(policy.Resets);
    }

    [Fact]
    public void A_stateless_infer_with_one_observation_instead_of_n_obs_steps_is_refused_with_bad_shape()
    {
        using var server = new ServerRun(new EchoPolicy());
        using var robot = new TestRobot(server.Endpoint, "anon");
        Assert.True(robot.Link.Send(new InferRequest(9, 0, 0, 0, new Dictionary<string, float[]> { ["agent_pos"] = [1, 2] })));
        var error = robot.Expect<ProtocolError>();
        Assert.Equal(ErrorCodes.BadShape, error.Code);
        Assert.Equal(9UL, error.Seq);
        Assert.Contains("n_obs_steps", error.Text);
    }

    /// <summary>
    /// One inference at a time (MaxBatch 1) taking 300 ms: requests due in 100 ms that wait behind it cannot be
    /// answered in time and get <c>overloaded</c> at once when their turn comes, instead of a late chunk; the running one
    /// is answered. Every request gets an answer.
    /// </summary>
    [Fact]
    public void Requests_that_cannot_be_answered_before_they_are_due_get_overloaded_and_none_rots()
    {
        var policy = new EchoPolicy(TimeSpan.FromMilliseconds(300));
        using var server = new ServerRun(policy, new PolicyServerOptions { Bind = "tcp://127.0.0.1:*", MaxBatch = 1 });
        using var first = new TestRobot(server.Endpoint, "first");
        using var second = new TestRobot(server.Endpoint, "second");
        using var third = new TestRobot(server.Endpoint, "third");
        Assert.True(first.Link.Send(new InferRequest(1, 0, 0, 0, Window(1, 1, 1, 1))));
        WaitFor(() => !policy.Windows.IsEmpty);
        Assert.True(second.Link.Send(new InferRequest(2, 0, 0, 0, Window(2, 2, 2, 2)) { DeadlineMs = 100 }));
        Assert.True(third.Link.Send(new InferRequest(3, 0, 0, 0, Window(3, 3, 3, 3)) { DeadlineMs = 100 }));

        Assert.Equal(1UL, first.Expect<ActionChunk>().ObsSeq);
        foreach (var (robot, seq) in new[] { (second, 2UL), (third, 3UL) })
        {
            var error = robot.Expect<ProtocolError>();
            Assert.Equal(ErrorCodes.Overloaded, error.Code);
            Assert.Equal(seq, error.Seq);
        }
        Assert.Single(policy.Windows);
        Assert.Equal(2, server.Server.Stats.Errors[ErrorCodes.Overloaded]);
    }

    /// <summary>Waiting requests start earliest due first, not in arrival order.</summary>
    [Fact]
    public void Waiting_requests_start_earliest_deadline_first()
    {
        var policy = new EchoPolicy(TimeSpan.FromMilliseconds(200));
        using var server = new ServerRun(policy, new PolicyServerOptions { Bind = "tcp://127.0.0.1:*", MaxBatch = 1 });
        using var busy = new TestRobot(server.Endpoint, "busy");
        using var relaxed = new TestRobot(server.Endpoint, "relaxed");
        using var urgent = new TestRobot(server.Endpoint, "urgent");
        Assert.True(busy.Link.Send(new InferRequest(1, 0, 0, 0, Window(1, 1, 1, 1))));
        WaitFor(() => !policy.Windows.IsEmpty);
        Assert.True(relaxed.Link.Send(new InferRequest(2, 0, 0, 0, Window(2, 2, 2, 2)) { DeadlineMs = 60_000 }));
        Thread.Sleep(20);
        Assert.True(urgent.Link.Send(new InferRequest(3, 0, 0, 0, Window(3, 3, 3, 3)) { DeadlineMs = 30_000 }));
        busy.Expect<ActionChunk>();
        urgent.Expect<ActionChunk>();
        relaxed.Expect<ActionChunk>();
        Assert.Equal([1f, 3, 2], policy.Windows.Select(w => w.Data["agent_pos"][0]).ToArray());
    }

    [Fact]
    public void A_policys_certificate_travels_with_the_chunk()
    {
        var certificate = new ChunkCertificate(37, 100, 0.8, 0.1);
        using var server = new ServerRun(new CertifyingPolicy(certificate));
        using var robot = new TestRobot(server.Endpoint, "anon");
        Assert.True(robot.Link.Send(new InferRequest(5, 0, 4, 0, Window(0, 0, 1, 1)) { DeadlineMs = 30_000 }));
        Assert.Equal(certificate, robot.Expect<ActionChunk>().Certificate);
    }

    static void WaitFor(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "timed out");
            Thread.Sleep(5);
        }
    }

    sealed class CertifyingPolicy(ChunkCertificate certificate) : IChunkPolicy
    {
        readonly EchoPolicy echo = new();

        public PolicyMetadata Metadata => echo.Metadata;

        public InferenceResult Infer(ObservationWindow window, CancellationToken cancellationToken) =>
            echo.Infer(window, cancellationToken) with { Certificate = certificate };

        public void Reset(string robot) => echo.Reset(robot);
    }
}
