using DiffPolicy.Protocol;
using DiffPolicy.Protocol.Transport;
using NetMQ;
using NetMQ.Sockets;

namespace DiffPolicy.Control.Tests;

public class ConnectionTests
{
    [Fact]
    public async Task Two_robots_at_once_each_get_their_own_actions()
    {
        var policy = new EchoPolicy();
        using var run = new ServerRun(policy);
        var episodes = new[] { "left", "right" }.Select((name, index) => Task.Factory.StartNew(() =>
        {
            using var robot = new TestRobot(run.Endpoint, name);
            robot.Hello();
            for (long step = 0; step < 50; step++)
            {
                var x = 1000 * index + step;
                var chunk = robot.Step(episode: 0, step, x, index);
                Assert.Equal(step, chunk.StartStep);
                Assert.Equal([x, index], chunk.Values[..2]);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(episodes).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(100, run.Server.Stats.Chunks);
        Assert.Single(policy.Threads);
    }

    [Fact]
    public void A_robot_that_dies_and_comes_back_under_the_same_name_takes_over_its_session()
    {
        var policy = new EchoPolicy();
        using var run = new ServerRun(policy);
        using (var first = new TestRobot(run.Endpoint, "arm-1"))
        {
            first.Hello();
            first.Step(episode: 0, step: 0, 1, 1);
            first.SendObs(episode: 0, step: 1, 2, 2, infer: false);
        }
        using var second = new TestRobot(run.Endpoint, "arm-1");
        second.Hello();
        Assert.Equal(1, run.Server.Stats.Robots);
        Assert.Equal(1, run.Server.Stats.Forgotten);
        // Same episode number, but a fresh history: the new process's step 0 is not out of order.
        second.Step(episode: 0, step: 0, 7, 7);
        Assert.Equal([7f, 7f, 7f, 7f], policy.Windows.Last().Data["agent_pos"]);
        // The policy forgot the dead process's state before serving the new one.
        Assert.Equal(["arm-1"], policy.Resets);
    }

    [Fact]
    public void A_robot_keeps_running_through_a_server_restart()
    {
        var policy = new EchoPolicy();
        var first = new ServerRun(policy);
        var endpoint = first.Endpoint;
        using var robot = new TestRobot(endpoint, "arm-1");
        robot.Hello();
        robot.Step(episode: 0, step: 0, 1, 1);
        first.Dispose();

        using var second = new ServerRun(policy, new PolicyServerOptions { Bind = endpoint });
        // The DEALER reconnects by itself; the new server does not know it and says so, and the robot says hello again.
        // Observations queued while the server was down are delivered too, so any of them may be answered first.
        var started = DateTime.UtcNow;
        var sent = new List<ulong>();
        while (true)
        {
            sent.Add(robot.SendObs(episode: 0, step: 1, 2, 2));
            if (robot.Link.TryReceive(TimeSpan.FromMilliseconds(500), out var reply))
            {
                var error = Assert.IsType<ProtocolError>(reply);
                Assert.Equal(ErrorCodes.NoSession, error.Code);
                Assert.Contains(error.Seq ?? 0, sent);
                break;
            }
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "the robot never reached the restarted server");
        }
        Assert.True(robot.Link.Send(new Hello(MessageCodec.ProtocolVersion, robot.Name)));
        while (robot.Expect<Message>() is ProtocolError late)
        {
            Assert.Equal(ErrorCodes.NoSession, late.Code);
            Assert.Contains(late.Seq ?? 0, sent);
        }
        Assert.Equal(2L, robot.Step(episode: 0, step: 2, 3, 3).StartStep);
    }

    [Fact]
    public void A_multi_frame_message_is_a_bad_frame()
    {
        using var run = new ServerRun(new EchoPolicy());
        using var dealer = new DealerSocket(run.Endpoint);
        dealer.SendMoreFrame(MessageCodec.Encode(new Ping(1, 0))).SendFrame(MessageCodec.Encode(new Ping(2, 0)));
        Assert.True(dealer.TryReceiveFrameBytes(TimeSpan.FromSeconds(5), out var frame));
        Assert.Equal(ErrorCodes.BadFrame, Assert.IsType<ProtocolError>(MessageCodec.Decode(frame)).Code);
    }

    [Fact]
    public void Binding_beyond_loopback_requires_curve_keys()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PolicyServer(new EchoPolicy(), new PolicyServerOptions { Bind = "tcp://0.0.0.0:*" }));
        Assert.Contains("CurveZMQ", ex.Message, StringComparison.Ordinal);
        Assert.True(Endpoints.IsLoopback("tcp://127.0.0.1:5555"));
        Assert.True(Endpoints.IsLoopback("tcp://localhost:5555"));
        Assert.True(Endpoints.IsLoopback("tcp://[::1]:5555"));
        Assert.False(Endpoints.IsLoopback("tcp://*:5555"));
        Assert.False(Endpoints.IsLoopback("tcp://192.168.1.4:5555"));
    }

    [Fact]
    public void A_curve_server_serves_curve_clients_and_ignores_plain_ones()
    {
        var serverKeys = new NetMQCertificate();
        using var run = new ServerRun(new EchoPolicy(), new PolicyServerOptions { Bind = "tcp://127.0.0.1:*", CurveServer = serverKeys });
        using var secure = new TestRobot(run.Endpoint, "secure", new CurveClientKeys(serverKeys.PublicKey, new NetMQCertificate()));
        secure.Hello();
        secure.Step(episode: 0, step: 0, 1, 1);
        using var plain = new TestRobot(run.Endpoint, "plain");
        plain.Link.Send(new Ping(1, 0));
        plain.ExpectSilence(TimeSpan.FromSeconds(1));
        Assert.Equal(1, run.Server.Stats.Robots);
    }
}
