using System.Diagnostics;
using DiffPolicy.Protocol;
using DiffPolicy.Protocol.Transport;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Robot;

/// <summary>
/// The PushT simulator as a robot of a policy server (docs/protocol.md): it observes every step as the server's policy
/// reads PushT (<see cref="ObserverFor"/>: the 18 keypoints, or a camera image and the agent position), and
/// runs episodes in <see cref="RobotMode.Lockstep"/> or <see cref="RobotMode.RealTime"/>. The episode number on the
/// wire is the episode's seed. Not thread-safe: use it from one thread.
/// </summary>
public sealed class PushTRobot : IDisposable
{
    /// <summary>What the PushT robot observes in keypoint mode: the T's 8 vertices (x, y) and the agent's position.</summary>
    public const int KeypointValues = PushTObserver.KeypointValues;
    static readonly TimeSpan PingEvery = TimeSpan.FromSeconds(1);

    readonly RobotLink link;
    readonly long clockStart = Stopwatch.GetTimestamp();
    long lastHeard, lastPing;
    ulong seq, sessionSince;

    public PushTRobot(string endpoint, PushTRobotOptions? options = null, CurveClientKeys? curve = null)
    {
        Options = options ?? new PushTRobotOptions();
        if (!MessageCodec.IsValidRobotName(Options.Name))
        {
            throw new ArgumentException($"'{Options.Name}' is not a robot name: 1–64 of [A-Za-z0-9_.-]", nameof(options));
        }
        link = new RobotLink(endpoint, curve);
    }

    public PushTRobotOptions Options { get; }

    /// <summary>What the server's policy expects; known after <see cref="Connect"/>.</summary>
    public PolicyMetadata Policy => welcome?.Policy ?? throw new InvalidOperationException("connect first");

    /// <summary>What the robot observes for the server's policy (keypoints or image + agent position); known after <see cref="Connect"/>.</summary>
    public PushTObserver Observer => observer ?? throw new InvalidOperationException("connect first");

    PushTObserver? observer;

    /// <summary>Sessions reopened since this robot connected.</summary>
    public int Rehellos { get; private set; }

    Welcome? welcome;

    /// <summary>Opens the session; throws <see cref="TimeoutException"/> when no server answers within <see cref="PushTRobotOptions.ServerTimeout"/>.</summary>
    public Welcome Connect()
    {
        var opened = Hello();
        observer = ObserverFor(opened.Policy, out var why) ?? throw new InvalidOperationException($"the server's policy {why}");
        welcome = opened;
        return opened;
    }

    /// <summary>
    /// Runs one episode from <paramref name="seed"/>'s reset for at most <paramref name="maxSteps"/> steps (stopping at
    /// success). <paramref name="observe"/> sees every frame (see <see cref="Episode.Run"/>); <paramref name="chunkArrived"/>
    /// each chunk's timing as it arrives.
    /// </summary>
    public RobotEpisode RunEpisode(long seed, int maxSteps, Action<PushTEnv, Vec2?>? observe = null, Action<ChunkTiming>? chunkArrived = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seed);
        _ = Policy;
        var rehellosBefore = Rehellos;
        // Reset first: the same seed run twice in a row is a new episode for the server too.
        link.Send(new Reset());
        if (Options.Mode == RobotMode.Lockstep)
        {
            var source = new LockstepSource(this, seed, chunkArrived);
            var controller = new ChunkedController(source, Policy.NActionSteps);
            var episode = Episode.Run(seed, controller.Act, maxSteps, observe);
            return new RobotEpisode(episode, controller.Chunks, controller.DeadlineMisses, controller.StartupTicks, 0, 0, Rehellos - rehellosBefore, source.Timings,
                controller.Sources)
            { Overloaded = controller.Refusals };
        }
        if (Options.Mode == RobotMode.Latency)
        {
            var source = new LockstepSource(this, seed, chunkArrived);
            var lead = Math.Max(0, Policy.PredictedSteps - Policy.NActionSteps);
            var controller = new LatencyController(source, lead, Options.LatencySteps ?? 0, Options.Seam);
            var episode = Episode.Run(seed, controller.Act, maxSteps, observe);
            return new RobotEpisode(episode, controller.Chunks, controller.DeadlineMisses, controller.StartupTicks, 0, 0, Rehellos - rehellosBefore,
                source.Timings, controller.Sources)
            { Overloaded = controller.Refusals };
        }
        var driver = new RealTimeDriver(this, seed, chunkArrived);
        var run = Episode.Run(seed, driver.Act, maxSteps, observe);
        return driver.Report(run, Rehellos - rehellosBefore);
    }

    /// <summary>Says bye (best effort) and closes the socket.</summary>
    public void Dispose()
    {
        if (welcome is not null)
        {
            link.Send(new Bye());
        }
        link.Dispose();
    }

    internal double Now => Stopwatch.GetElapsedTime(clockStart).TotalSeconds;

    /// <summary>
    /// How the PushT robot observes for <paramref name="policy"/>: the 18 keypoint values when it reads one low_dim key of
    /// that length, diffusion_policy's PushTImageEnv observation when it reads one square rgb camera (16–512 pixels) and one
    /// low_dim key of 2 values (the agent position); null, with <paramref name="why"/>, for any other policy, or one whose
    /// actions are not 2-D targets.
    /// </summary>
    public static PushTObserver? ObserverFor(PolicyMetadata policy, out string why)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var keys = policy.ObsKeys;
        var rgb = keys.Where(k => k.IsRgb).ToList();
        var lowDim = keys.Where(k => !k.IsRgb).ToList();
        why = "";
        if (policy.ActionDim != 2)
        {
            why = $"acts in {policy.ActionDim} dimensions; PushT's actions are 2-D targets";
            return null;
        }
        if (rgb.Count == 0 && lowDim.Count == 1 && lowDim[0].Length == KeypointValues) return PushTObserver.Keypoints(lowDim[0].Name);
        if (rgb.Count == 1 && lowDim.Count == 1 && lowDim[0].Length == PushTObserver.AgentPosValues
            && rgb[0].Shape is [var h, var w, 3] && h == w && h is >= 16 and <= 512)
        {
            return PushTObserver.Image(rgb[0].Name, lowDim[0].Name, h);
        }
        why = $"observes {string.Join(", ", keys.Select(k => $"{k.Name} {k.ShapeText} {k.Type}"))}; PushT observes either "
            + $"{KeypointValues} keypoint values, or one square camera image (16–512 pixels) with the agent position (2 values)";
        return null;
    }

    internal ulong SendObservation(long episode, long step, PushTObservation observation, bool infer, ActionPrior? prior = null, double? deadlineMs = null)
    {
        var s = ++seq;
        link.Send(new Observation(s, episode, step, Now, infer, observation.Values, WirePrior(prior)) { Frames = observation.Frames, DeadlineMs = infer ? deadlineMs : null });
        return s;
    }

    /// <summary>A stateless request: <paramref name="window"/> holds n_obs_steps observations, oldest first (<see cref="PushTObservation.Stack"/>).</summary>
    internal ulong SendInfer(long episode, long step, PushTObservation window, double? deadlineMs)
    {
        var s = ++seq;
        link.Send(new InferRequest(s, episode, step, Now, window.Values) { Frames = window.Frames, DeadlineMs = deadlineMs });
        return s;
    }

    /// <summary>A plan prior as the wire carries it: rows of (x, y) float32.</summary>
    public static PlanPrior? WirePrior(ActionPrior? prior)
    {
        if (prior is null) return null;
        var values = new float[prior.Actions.Count * 2];
        for (var i = 0; i < prior.Actions.Count; i++)
        {
            values[2 * i] = (float)prior.Actions[i].X;
            values[2 * i + 1] = (float)prior.Actions[i].Y;
        }
        return new PlanPrior(values, prior.Frozen);
    }

    /// <summary>
    /// The next message within <paramref name="timeout"/>, or null. Pings the server once a second while it is quiet and
    /// throws <see cref="TimeoutException"/> when it has said nothing for <see cref="PushTRobotOptions.ServerTimeout"/>, and
    /// <see cref="InvalidOperationException"/> (as for a refusal) when what it sent does not decode.
    /// </summary>
    internal Message? Receive(TimeSpan timeout)
    {
        var now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(lastPing, now) >= PingEvery)
        {
            link.Send(new Ping(++seq, Now));
            lastPing = now;
        }
        var wait = TimeSpan.FromTicks(Math.Min(timeout.Ticks, PingEvery.Ticks));
        Message? message;
        try
        {
            if (!link.TryReceive(wait, out message)) message = null;
        }
        catch (ProtocolException ex)
        {
            throw new InvalidOperationException($"the policy server sent a frame that does not decode: {ex.Message}", ex);
        }
        if (message is not null)
        {
            lastHeard = Stopwatch.GetTimestamp();
            return message;
        }
        if (Stopwatch.GetElapsedTime(lastHeard) > Options.ServerTimeout)
        {
            throw new TimeoutException($"the policy server has not answered for {Options.ServerTimeout.TotalSeconds:0} s");
        }
        return null;
    }

    /// <summary>
    /// Handles what is not an action chunk: returns true when the server has lost this robot's session (restart,
    /// timeout), after opening a new one; throws on any other refusal.
    /// </summary>
    internal bool HandleOther(Message message)
    {
        switch (message)
        {
            // Stateless requests need no session: behind a broker, pongs come from workers that never saw this robot.
            case Pong when Options.Stateless:
            case ProtocolError { Code: ErrorCodes.NoSession } when Options.Stateless:
                return false;
            // Refusals of what was sent before the current session are old news: one restart, one hello.
            case Pong { Session: false } pong when pong.Seq > sessionSince:
            case ProtocolError { Code: ErrorCodes.NoSession, Seq: { } refused } when refused > sessionSince:
                Hello();
                Rehellos++;
                return true;
            case ProtocolError { Code: ErrorCodes.NoSession }:
                return false;
            case ProtocolError error:
                throw new InvalidOperationException($"the policy server refused a message: {error.Code}: {error.Text}");
            default:
                return false;
        }
    }

    Welcome Hello()
    {
        link.Send(new Hello(MessageCodec.ProtocolVersion, Options.Name));
        sessionSince = seq;
        lastHeard = Stopwatch.GetTimestamp();
        while (true)
        {
            switch (Receive(Options.ServerTimeout))
            {
                case Welcome opened:
                    return opened;
                case ProtocolError { Code: not ErrorCodes.NoSession } error:
                    throw new InvalidOperationException($"the policy server refused hello: {error.Code}: {error.Text}");
            }
        }
    }
}
