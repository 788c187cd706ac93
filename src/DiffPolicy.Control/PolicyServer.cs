using System.Collections.Concurrent;
using System.Diagnostics;
using DiffPolicy.Protocol;
using DiffPolicy.Protocol.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NetMQ;
using NetMQ.Sockets;

namespace DiffPolicy.Control;

/// <summary>
/// Serves an <see cref="IChunkPolicy"/> to many robots over a ZeroMQ ROUTER (protocol: docs/protocol.md), or, as a
/// worker of a broker (<see cref="PolicyServerOptions.WorkerOf"/>), over a DEALER connected to the broker's backend: the
/// broker's proxy hands on each robot's frames behind the robot's routing identity, so both sockets see
/// [identity][frame] and the server is the same. The constructor binds (or connects); <see cref="Run"/> serves on the
/// calling thread until cancelled, with inference on one dedicated thread, then closes the socket. Call
/// <c>NetMQConfig.Cleanup</c> once at process exit.
/// </summary>
public sealed class PolicyServer : IDisposable
{
    readonly IChunkPolicy policy;
    readonly PolicyServerOptions options;
    readonly PolicyMetadata metadata;
    readonly ProtocolLimits limits;
    readonly NetMQSocket router;
    readonly Dictionary<string, RobotSession> byIdentity = [];
    readonly Dictionary<string, RobotSession> byName = [];
    readonly InferenceQueue queue = new();
    readonly ConcurrentDictionary<string, long> errors = new();
    readonly ErrorReplyBudget errorReplies;
    readonly ILogger log;
    readonly LogBudget logBudget = new();
    long frames, chunks, superseded, staleReplies, forgotten, suppressedErrorReplies;
    int robots, started;

    public PolicyServer(IChunkPolicy policy, PolicyServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(options);
        this.policy = policy;
        this.options = options;
        metadata = policy.Metadata;
        // Frames big enough for the policy's cameras, whose keys travel as u8.
        limits = options.Limits.For(metadata);
        errorReplies = new ErrorReplyBudget(options.MaxErrorRepliesPerSecond);
        log = options.Logger ?? NullLogger.Instance;
        if (options.MaxBatch < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxBatch, "MaxBatch must be at least 1");
        }
        if (options.WorkerOf is { } broker)
        {
            router = Sockets.ConnectWorker(broker, options.CurveClient, limits);
            Endpoint = broker;
        }
        else
        {
            router = Sockets.BindRouter(options.Bind, options.CurveServer, limits, out var endpoint);
            Endpoint = endpoint;
        }
    }

    /// <summary>The bound endpoint, with the port resolved when <see cref="PolicyServerOptions.Bind"/> asked for any; the broker's for a worker.</summary>
    public string Endpoint { get; }

    public ServerStats Stats => new(
        Volatile.Read(ref robots), Interlocked.Read(ref frames), new Dictionary<string, long>(errors), Interlocked.Read(ref chunks),
        Interlocked.Read(ref superseded), Interlocked.Read(ref staleReplies), Interlocked.Read(ref forgotten), Interlocked.Read(ref suppressedErrorReplies),
        queue.Cancelled);

    /// <summary>Serves until <paramref name="cancellationToken"/> is cancelled, then stops inference and closes the socket.</summary>
    public void Run(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref started, 1) == 1)
        {
            throw new InvalidOperationException("a PolicyServer runs once; build a new one to serve again");
        }
        using var replies = new NetMQQueue<InferenceReply>();
        var worker = new InferenceWorker(policy, queue, replies, options.MaxBatch, log);
        var tick = new NetMQTimer(TimeSpan.FromMilliseconds(100));
        using var poller = new NetMQPoller { router, replies, tick };
        router.ReceiveReady += (_, _) => ReceiveAvailable();
        replies.ReceiveReady += (_, _) => SendReplies(replies);
        tick.Elapsed += (_, _) =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                poller.Stop();
                return;
            }
            ForgetSilentRobots();
            errorReplies.Expire();
            logBudget.Expire();
        };
        ServerLog.Started(log, Endpoint, options.MaxRobots, options.MaxBatch);
        worker.Start();
        try
        {
            poller.Run();
        }
        finally
        {
            worker.Stop();
            router.Dispose();
            ServerLog.Stopped(log, Interlocked.Read(ref chunks), Interlocked.Read(ref forgotten), errors.Values.Sum());
        }
    }

    public void Dispose() => router.Dispose();

    void ReceiveAvailable()
    {
        // Bounded per wake-up so replies and timers interleave with a flood.
        for (var i = 0; i < 256 && router.TryReceiveFrameBytes(out var identity, out var more); i++)
        {
            Interlocked.Increment(ref frames);
            if (!more)
            {
                continue;
            }
            var payload = router.ReceiveFrameBytes(out more);
            if (more)
            {
                router.SkipMultipartMessage();
                Refuse(identity, new ProtocolException(ErrorCodes.BadFrame, "a message must be exactly one frame"));
                continue;
            }
            Handle(identity, payload);
        }
    }

    void Handle(byte[] identity, byte[] payload)
    {
        var key = Convert.ToHexString(identity);
        byIdentity.TryGetValue(key, out var session);
        if (session is not null)
        {
            session.LastSeen = Stopwatch.GetTimestamp();
        }
        try
        {
            var message = MessageCodec.Decode(payload, limits);
            switch (message)
            {
                case Ping ping:
                    Send(identity, new Pong(ping.Seq, ping.Time, session is not null));
                    break;
                case Hello hello:
                    Open(key, identity, hello, session);
                    break;
                case ProtocolError:
                    Count(ErrorCodes.BadMessage);
                    break;
                case Welcome or ActionChunk or Pong:
                    throw new ProtocolException(ErrorCodes.BadMessage, "welcome, actions and pong go from the server to robots, not to the server");
                case InferRequest infer:
                    InferStateless(key, identity, infer);
                    break;
                case Bye:
                    if (session is not null)
                    {
                        Forget(session, "bye");
                    }
                    break;
                case var _ when session is null:
                    throw new ProtocolException(ErrorCodes.NoSession, "this connection has no session: send hello", (message as Observation)?.Seq);
                case Reset:
                    // The next observation starts a new history, which resets the policy; replies in flight are stale.
                    session.History.Clear();
                    session.Epoch++;
                    break;
                case Observation observation:
                    Observe(session, observation);
                    break;
            }
        }
        catch (ProtocolException ex)
        {
            Refuse(identity, ex);
        }
    }

    void Open(string key, byte[] identity, Hello hello, RobotSession? current)
    {
        if (hello.Protocol != MessageCodec.ProtocolVersion)
        {
            throw new ProtocolException(ErrorCodes.BadVersion, $"protocol {hello.Protocol} is not supported; this server speaks {MessageCodec.ProtocolVersion}");
        }
        if (current is not null)
        {
            ServerLog.SessionReplaced(log, hello.Robot, key);
            Forget(current, "hello again on its connection");
        }
        if (byName.TryGetValue(hello.Robot, out var previous))
        {
            // The robot restarted on a new connection: its old session is dead.
            Forget(previous, "hello on a new connection");
        }
        if (byIdentity.Count >= options.MaxRobots)
        {
            throw new ProtocolException(ErrorCodes.ServerFull, $"the server already serves {options.MaxRobots} robots");
        }
        var session = new RobotSession(key, identity, hello.Robot, metadata, Stopwatch.GetTimestamp());
        byIdentity.Add(key, session);
        byName.Add(hello.Robot, session);
        Volatile.Write(ref robots, byIdentity.Count);
        ServerLog.SessionOpened(log, hello.Robot, key);
        Send(identity, new Welcome(
            MessageCodec.ProtocolVersion, hello.Robot, options.ServerName, metadata, options.RobotTimeout.TotalSeconds, limits.MaxFrameBytes));
    }

    void Observe(RobotSession session, Observation observation)
    {
        CheckShapes(observation);
        if (session.History.Add(observation))
        {
            ResetPolicy(session);
        }
        if (observation.Infer)
        {
            session.ReachedPolicy = true;
            var window = session.History.Window(session.Name) with { Prior = observation.Prior };
            Submit(session.Name, session.Identity, session, session.Epoch, observation.Seq, observation.Time, window, observation.DeadlineMs);
        }
    }

    /// <summary>An <c>infer</c> request: the robot's own window, no session; its slot is its connection's.</summary>
    void InferStateless(string key, byte[] identity, InferRequest infer)
    {
        var n = metadata.NObsSteps;
        CheckKeys(infer.Data, infer.Frames, infer.Seq, n);
        var window = new ObservationWindow("@" + key, infer.Episode, infer.Step, n, infer.Data) { Frames = infer.Frames, Stateless = true };
        Submit(window.Robot, identity, null, 0, infer.Seq, infer.Time, window, infer.DeadlineMs);
    }

    void Submit(string slot, byte[] identity, RobotSession? session, int epoch, ulong seq, double time, ObservationWindow window, double? deadlineMs)
    {
        var now = Stopwatch.GetTimestamp();
        var budget = deadlineMs is { } ms ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromSeconds(metadata.RealTimeLead * metadata.Dt);
        var request = new InferenceRequest(slot, identity, session, epoch, seq, time, window, now, now + (long)(budget.TotalSeconds * Stopwatch.Frequency), deadlineMs is not null);
        if (queue.Submit(request))
        {
            Interlocked.Increment(ref superseded);
        }
    }

    void CheckShapes(Observation observation)
    {
        CheckKeys(observation.Data, observation.Frames, observation.Seq, 1);
        if (observation.Prior is { } prior)
        {
            var rows = prior.Actions.Length / metadata.ActionDim;
            if (prior.Actions.Length == 0 || prior.Actions.Length % metadata.ActionDim != 0 || rows > metadata.PredictedSteps)
            {
                throw new ProtocolException(ErrorCodes.BadShape,
                    $"'prior' has {prior.Actions.Length} values; it needs 1 … {metadata.PredictedSteps} rows of action_dim {metadata.ActionDim}", observation.Seq);
            }
            if (prior.Frozen > rows)
            {
                throw new ProtocolException(ErrorCodes.BadMessage, $"'prior_frozen' is {prior.Frozen}, more than the prior's {rows} rows", observation.Seq);
            }
            if (prior.Weights is { } weights && (weights.Length != rows || Array.Exists(weights, w => w is < 0 or > 1)))
            {
                throw new ProtocolException(ErrorCodes.BadShape, $"'prior_weights' needs {rows} values in [0, 1], one per prior row", observation.Seq);
            }
        }
    }

    /// <summary>Every declared key present once, low-dim ones as float32 and rgb ones as u8, each <paramref name="steps"/> × its length.</summary>
    void CheckKeys(IReadOnlyDictionary<string, float[]> data, IReadOnlyDictionary<string, byte[]> frames, ulong seq, int steps)
    {
        foreach (var key in metadata.ObsKeys)
        {
            int? length = key.IsRgb
                ? frames.TryGetValue(key.Name, out var frame) ? frame.Length : null
                : data.TryGetValue(key.Name, out var values) ? values.Length : null;
            if (length is null)
            {
                throw new ProtocolException(ErrorCodes.BadShape, $"missing observation key '{key.Name}'", seq);
            }
            if (length != steps * key.Length)
            {
                var needs = steps == 1 ? $"{key.Length}" : $"n_obs_steps × {key.Length} = {steps * key.Length}";
                throw new ProtocolException(
                    ErrorCodes.BadShape, $"'{key.Name}' has {length} {(key.IsRgb ? "bytes" : "values")}; its shape {key.ShapeText} needs {needs}", seq);
            }
        }
        if (data.Count + frames.Count != metadata.ObsKeys.Count)
        {
            var unknown = data.Keys.Concat(frames.Keys).First(k => metadata.Find(k) is null);
            throw new ProtocolException(ErrorCodes.BadShape, $"unknown observation key '{unknown}'", seq);
        }
    }

    void ResetPolicy(RobotSession session)
    {
        session.Epoch++;
        if (session.ReachedPolicy)
        {
            queue.Reset(session.Name);
        }
    }

    void Forget(RobotSession session, string reason)
    {
        ServerLog.SessionForgotten(log, session.Name, reason);
        byIdentity.Remove(session.IdentityKey);
        if (byName.TryGetValue(session.Name, out var named) && named == session)
        {
            byName.Remove(session.Name);
        }
        ResetPolicy(session);
        Volatile.Write(ref robots, byIdentity.Count);
        Interlocked.Increment(ref forgotten);
    }

    void ForgetSilentRobots()
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var session in byIdentity.Values.ToList())
        {
            if (Stopwatch.GetElapsedTime(session.LastSeen, now) > options.RobotTimeout)
            {
                Forget(session, $"silent for more than {options.RobotTimeout.TotalSeconds:F0} s");
            }
        }
    }

    void SendReplies(NetMQQueue<InferenceReply> replies)
    {
        while (replies.TryDequeue(out var reply, TimeSpan.Zero))
        {
            // Stateless replies have no session to outlive.
            var live = reply.Session is not { } owner
                || (byIdentity.TryGetValue(owner.IdentityKey, out var session) && session == owner && session.Epoch == reply.Epoch);
            if (!live)
            {
                Interlocked.Increment(ref staleReplies);
                continue;
            }
            switch (reply.Kind)
            {
                case ReplyKind.Chunk:
                    Interlocked.Increment(ref chunks);
                    break;
                case ReplyKind.Failed:
                    Count(ErrorCodes.PolicyFailed);
                    break;
                case ReplyKind.Overloaded:
                    Count(ErrorCodes.Overloaded);
                    break;
            }
            SendFrame(reply.Identity, reply.Frame);
        }
    }

    void Refuse(byte[] identity, ProtocolException ex)
    {
        Count(ex.Code);
        var connection = Convert.ToHexString(identity);
        if (log.IsEnabled(LogLevel.Warning) && logBudget.TrySpend(connection, out var leftOut))
        {
            ServerLog.Refused(log, ex.Code, connection, ex.Message, leftOut == 0 ? "" : $" ({leftOut} earlier refusals of this connection not logged)");
        }
        if (errorReplies.TrySpend(connection))
        {
            Send(identity, ex.ToMessage());
        }
        else
        {
            Interlocked.Increment(ref suppressedErrorReplies);
        }
    }

    void Count(string code) => errors.AddOrUpdate(code, 1, (_, n) => n + 1);

    void Send(byte[] identity, Message message) => SendFrame(identity, MessageCodec.Encode(message));

    // A ROUTER drops what it cannot deliver (peer gone, or its queue full): a slow robot never blocks the others.
    void SendFrame(byte[] identity, byte[] frame)
    {
        if (router.TrySendFrame(TimeSpan.Zero, identity, more: true))
        {
            router.TrySendFrame(TimeSpan.Zero, frame);
        }
    }
}
