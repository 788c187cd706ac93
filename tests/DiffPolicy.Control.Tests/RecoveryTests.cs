using System.Diagnostics;
using DiffPolicy.Protocol;

namespace DiffPolicy.Control.Tests;

/// <summary>
/// What docs/protocol.md promises a robot about unusual sequences: <c>reset</c> before <c>hello</c>, a repeated
/// <c>seq</c>, a lost request, and a server restart under a lockstep robot (§3 and §6).
/// </summary>
public class RecoveryTests
{
    [Fact]
    public void Reset_before_hello_answers_no_session_without_ref_seq()
    {
        using var run = new ServerRun(new EchoPolicy());
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        Assert.True(robot.Link.Send(new Reset()));
        var error = robot.Expect<ProtocolError>();
        Assert.Equal((ErrorCodes.NoSession, (ulong?)null), (error.Code, error.Seq));
    }

    [Fact]
    public void A_repeated_seq_is_accepted_and_echoed()
    {
        using var run = new ServerRun(new EchoPolicy());
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        robot.Hello();
        for (long step = 0; step < 2; step++)
        {
            Assert.True(robot.Link.Send(new Observation(5, 0, step, step * 0.1, true, new Dictionary<string, float[]> { ["agent_pos"] = [step, 0] })));
            var chunk = robot.Expect<ActionChunk>();
            Assert.Equal((5ul, step), (chunk.ObsSeq, chunk.StartStep));
        }
    }

    [Fact]
    public void A_lost_request_is_asked_again_by_reset_and_re_sending_the_window()
    {
        var policy = new EchoPolicy();
        using var run = new ServerRun(policy);
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        robot.Hello();
        robot.SendObs(episode: 3, step: 4, 1, 1, infer: false);
        robot.SendObs(episode: 3, step: 5, 2, 2);
        robot.Expect<ActionChunk>(); // the robot never sees this chunk: its reply is "lost"
        var original = policy.Windows.Last();

        // Re-sending the same step does not work: the server has it already.
        var again = robot.SendObs(episode: 3, step: 5, 2, 2);
        var error = robot.Expect<ProtocolError>();
        Assert.Equal((ErrorCodes.OutOfOrder, again), (error.Code, error.Seq));

        // What §6 says works: reset, then the last n_obs_steps observations, the newest asking for actions.
        Assert.True(robot.Link.Send(new Reset()));
        robot.SendObs(episode: 3, step: 4, 1, 1, infer: false);
        var newest = robot.SendObs(episode: 3, step: 5, 2, 2);
        var chunk = robot.Expect<ActionChunk>();
        Assert.Equal((newest, 5L), (chunk.ObsSeq, chunk.StartStep));
        var resent = policy.Windows.Last();
        Assert.Equal((original.Episode, original.Step), (resent.Episode, resent.Step));
        Assert.Equal(original.Data["agent_pos"], resent.Data["agent_pos"]);
        // The reset restarted the robot's policy state (the sampling noise of a diffusion policy).
        Assert.Equal(["arm-1"], policy.Resets);
    }

    [Fact]
    public void A_server_restart_loses_a_lockstep_request_silently_and_a_ping_reveals_it()
    {
        var policy = new EchoPolicy(delay: TimeSpan.FromSeconds(5));
        var first = new ServerRun(policy);
        var endpoint = first.Endpoint;
        using var robot = new TestRobot(endpoint, "arm-1");
        robot.Hello();
        robot.SendObs(episode: 0, step: 0, 1, 1, infer: false);
        robot.SendObs(episode: 0, step: 1, 2, 2);
        var started = Stopwatch.StartNew();
        while (policy.Windows.IsEmpty)
        {
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), "the inference never started");
            Thread.Sleep(10);
        }
        first.Dispose(); // the server stops with the request taken in

        using var second = new ServerRun(new EchoPolicy(), new PolicyServerOptions { Bind = endpoint });
        // Nothing ever answers the lost request: no chunk, no error.
        robot.ExpectSilence(TimeSpan.FromSeconds(2));
        // A ping does tell: this connection has no session on the new server.
        Assert.True(robot.Link.Send(new Ping(99, 0)));
        Assert.False(robot.Expect<Pong>(TimeSpan.FromSeconds(30)).Session);
        robot.Hello();
        robot.SendObs(episode: 0, step: 0, 1, 1, infer: false);
        var newest = robot.SendObs(episode: 0, step: 1, 2, 2);
        var chunk = robot.Expect<ActionChunk>();
        Assert.Equal((newest, 1L), (chunk.ObsSeq, chunk.StartStep));
    }
}
