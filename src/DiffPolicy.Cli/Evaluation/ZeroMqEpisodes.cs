using DiffPolicy.Cli.Commands;
using DiffPolicy.Control;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;
using DiffPolicy.Sim.PushT.Robot;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>
/// Episodes run by the PushT robot in lockstep against a policy server: one started in this process on
/// <c>inproc://</c> or loopback TCP, or a remote one.
/// </summary>
public sealed class ZeroMqEpisodes : IEpisodeRunner
{
    readonly BackgroundServer? server;
    readonly PushTRobot robot;

    ZeroMqEpisodes(BackgroundServer? server, string endpoint, string transport, Execution? execution)
    {
        this.server = server;
        Transport = transport;
        execution ??= Execution.Lockstep;
        var mode = execution.Mode switch { EvalMode.Latency => RobotMode.Latency, EvalMode.Realtime => RobotMode.RealTime, _ => RobotMode.Lockstep };
        robot = new PushTRobot(endpoint, new PushTRobotOptions { Name = "eval", Mode = mode, LatencySteps = execution.LatencySteps, Seam = execution.Seam, DeadlineMs = execution.DeadlineMs });
        try
        {
            robot.Connect();
        }
        catch
        {
            robot.Dispose();   // the server stays its creator's to dispose (Serving), as when construction succeeds it is ours
            throw;
        }
    }

    /// <summary>Serves <paramref name="policy"/> in this process on <c>inproc://</c> (<paramref name="tcp"/> false) or loopback TCP.</summary>
    public static ZeroMqEpisodes Serving(IChunkPolicy policy, bool tcp, Execution? execution = null)
    {
        var server = new BackgroundServer(policy, tcp ? "tcp://127.0.0.1:*" : $"inproc://diffpolicy-eval-{Guid.NewGuid():N}");
        try
        {
            return new ZeroMqEpisodes(server, server.Endpoint, tcp ? "tcp" : "inproc", execution);
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>A policy server that is already running at <paramref name="endpoint"/>.</summary>
    public static ZeroMqEpisodes Remote(string endpoint, Execution? execution = null) => new(null, endpoint, endpoint, execution);

    public string Transport { get; }

    public EpisodeRun Run(long seed, int maxSteps, Action<PushTEnv, Vec2?>? observe)
    {
        var run = robot.RunEpisode(seed, maxSteps, observe);
        return new EpisodeRun(run.Episode, run.Timings, run.Sources, run.StartupTicks, run.DeadlineMisses, run.Overloaded);
    }

    public void Dispose()
    {
        robot.Dispose();
        server?.Dispose();
    }
}
