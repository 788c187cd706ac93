using DiffPolicy.Protocol;
using DiffPolicy.Protocol.Transport;
using Microsoft.Extensions.Logging;
using NetMQ;

namespace DiffPolicy.Control;

/// <summary>How a <see cref="PolicyServer"/> listens and what it tolerates.</summary>
public sealed record PolicyServerOptions
{
    /// <summary>ZeroMQ endpoint; port <c>*</c> picks a free one. Anything but loopback requires <see cref="CurveServer"/>.</summary>
    public string Bind { get; init; } = "tcp://127.0.0.1:5555";

    /// <summary>CurveZMQ server key pair; with it, clients must connect with CurveZMQ and this server's public key.</summary>
    public NetMQCertificate? CurveServer { get; init; }

    /// <summary>A robot silent for this long is forgotten (its session, history and policy state).</summary>
    public TimeSpan RobotTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Sessions beyond this get <c>server_full</c>.</summary>
    public int MaxRobots { get; init; } = 64;

    public ProtocolLimits Limits { get; init; } = ProtocolLimits.Default;

    /// <summary>Error replies per connection per second; further refused frames are dropped and counted.</summary>
    public int MaxErrorRepliesPerSecond { get; init; } = 100;

    /// <summary>
    /// Serve as a worker of a broker (<c>diffpolicy broker</c>): connect to its backend endpoint instead of binding
    /// <see cref="Bind"/>. Beyond loopback the connection needs <see cref="CurveClient"/> with the broker's public key.
    /// </summary>
    public string? WorkerOf { get; init; }

    /// <summary>CurveZMQ keys for the connection to the broker (<see cref="WorkerOf"/>).</summary>
    public CurveClientKeys? CurveClient { get; init; }

    /// <summary>
    /// Requests sampled together at most (one ParaDiGMS run with per-sample windows); further ones wait, earliest due
    /// first, or are refused with <c>overloaded</c> once they cannot be answered in time.
    /// </summary>
    public int MaxBatch { get; init; } = DefaultMaxBatch;

    public const int DefaultMaxBatch = 8;

    /// <summary>Where the server logs sessions, refusals (bounded per connection) and failed or late inferences; none when null.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Sent in <c>welcome</c> so robots can log what they talk to.</summary>
    public string ServerName { get; init; } = "diffpolicy";
}
