using DiffPolicy.Cli.Commands;
using DiffPolicy.Control;
using DiffPolicy.Sim.PushT.Physics;
using DiffPolicy.Sim.PushT.Robot;
using DiffPolicy.Sim.PushT.Task;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>
/// Episodes run by the PushT robot in lockstep against a policy server: one started in this process on
/// <c>inproc://</c> or loopback TCP, or a remote one.
/// </summary>
public sealed class ZeroMqEpisodes : IEpisodeRunner
{
    readonly BackgroundServer? server;
    readonly PushTRobot robot;

    ZeroMqEpisodes(BackgroundServer? server, string endpoint, string transport)
    {
        this.server = server;
        Transport = transport;
        robot = new PushTRobot(endpoint, new PushTRobotOptions { Name = "eval", Mode = RobotMode.Lockstep });
        try
        {
            robot.Connect();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Serves <paramref name="policy"/> in this process on <c>inproc://</c> (<paramref name="tcp"/> false) or loopback TCP.</summary>
    public static ZeroMqEpisodes Serving(IChunkPolicy policy, bool tcp)
    {
        var server = new BackgroundServer(policy, tcp ? "tcp://127.0.0.1:*" : $"inproc://diffpolicy-eval-{Guid.NewGuid():N}");
        try
        {
            return new ZeroMqEpisodes(server, server.Endpoint, tcp ? "tcp" : "inproc");
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>A policy server that is already running at <paramref name="endpoint"/>.</summary>
    public static ZeroMqEpisodes Remote(string endpoint) => new(null, endpoint, endpoint);

    public string Transport { get; }

    public (Episode Episode, IReadOnlyList<ChunkTiming> Chunks) Run(long seed, int maxSteps, Action<PushTEnv, Vec2?>? observe)
    {
        var run = robot.RunEpisode(seed, maxSteps, observe);
        return (run.Episode, run.Timings);
    }

    public void Dispose()
    {
        robot.Dispose();
        server?.Dispose();
    }
}
