using DiffPolicy.Protocol;

namespace DiffPolicy.Control.Tests;

public class HandshakeTests
{
    [Fact]
    public void Hello_is_answered_with_the_policy_metadata()
    {
        using var run = new ServerRun(new EchoPolicy());
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        var welcome = robot.Hello();
        Assert.Equal((MessageCodec.ProtocolVersion, "arm-1"), (welcome.Protocol, welcome.Robot));
        Assert.Equal("agent_pos", Assert.Single(welcome.Policy.ObsKeys).Name);
        Assert.Equal((2, 16, 8, 2, 10.0), (welcome.Policy.NObsSteps, welcome.Policy.Horizon, welcome.Policy.NActionSteps, welcome.Policy.ActionDim, welcome.Policy.ControlHz));
        Assert.Equal(1, run.Server.Stats.Robots);
    }

    [Fact]
    public void Ping_is_answered_before_hello_and_tells_whether_there_is_a_session()
    {
        using var run = new ServerRun(new EchoPolicy());
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        robot.Link.Send(new Ping(11, 3.25));
        Assert.Equal(new Pong(11, 3.25, Session: false), robot.Expect<Pong>());
        robot.Hello();
        robot.Link.Send(new Ping(12, 4));
        Assert.Equal(new Pong(12, 4, Session: true), robot.Expect<Pong>());
    }

    [Fact]
    public void Observations_before_hello_get_no_session()
    {
        using var run = new ServerRun(new EchoPolicy());
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        var seq = robot.SendObs(0, 0, 1, 2);
        var error = robot.Expect<ProtocolError>();
        Assert.Equal((ErrorCodes.NoSession, seq), (error.Code, error.Seq));
    }

    [Fact]
    public void A_wrong_protocol_version_is_refused()
    {
        using var run = new ServerRun(new EchoPolicy());
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        robot.Link.Send(new Hello(99, "arm-1"));
        Assert.Equal(ErrorCodes.BadVersion, robot.Expect<ProtocolError>().Code);
        Assert.Equal(0, run.Server.Stats.Robots);
    }

    [Fact]
    public void Sessions_are_bounded()
    {
        using var run = new ServerRun(new EchoPolicy(), new PolicyServerOptions { Bind = "tcp://127.0.0.1:*", MaxRobots = 2 });
        using var a = new TestRobot(run.Endpoint, "a");
        using var b = new TestRobot(run.Endpoint, "b");
        using var c = new TestRobot(run.Endpoint, "c");
        a.Hello();
        b.Hello();
        c.Link.Send(new Hello(MessageCodec.ProtocolVersion, "c"));
        Assert.Equal(ErrorCodes.ServerFull, c.Expect<ProtocolError>().Code);
        b.Link.Send(new Bye());
        // b's bye and c's next hello travel on different connections: wait until the server has seen the bye.
        Assert.True(SpinWait.SpinUntil(() => run.Server.Stats.Robots == 1, TimeSpan.FromSeconds(5)), "b's bye was not seen");
        Assert.Equal("c", c.Hello().Robot);
    }

    [Fact]
    public void Silent_robots_are_forgotten()
    {
        var policy = new EchoPolicy();
        using var run = new ServerRun(policy, new PolicyServerOptions { Bind = "tcp://127.0.0.1:*", RobotTimeout = TimeSpan.FromSeconds(1) });
        using var robot = new TestRobot(run.Endpoint, "quiet");
        robot.Hello();
        robot.Step(episode: 0, step: 0, 1, 1);
        Assert.True(SpinWait.SpinUntil(() => run.Server.Stats.Robots == 0, TimeSpan.FromSeconds(5)), "the silent robot was not forgotten");
        // The reset runs on the inference thread, after the session is dropped.
        Assert.True(SpinWait.SpinUntil(() => policy.Resets.Contains("quiet"), TimeSpan.FromSeconds(5)), "the policy was not reset");
        robot.SendObs(0, 0, 1, 1);
        Assert.Equal(ErrorCodes.NoSession, robot.Expect<ProtocolError>().Code);
    }
}
