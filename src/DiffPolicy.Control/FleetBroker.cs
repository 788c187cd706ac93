using DiffPolicy.Protocol;
using DiffPolicy.Protocol.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NetMQ;
using NetMQ.Sockets;

namespace DiffPolicy.Control;

/// <summary>
/// Robots on one address, policy servers behind it: ZeroMQ's shared-queue pattern, NetMQ's own <see cref="Proxy"/>
/// between a ROUTER frontend (robots' DEALERs connect, as to a server) and a DEALER backend (workers, <c>serve
/// --worker-of</c>, connect). The ROUTER prefixes each robot's frame with the robot's routing identity; the DEALER
/// deals requests round robin over the live workers, passing any whose queue is full; replies come back the same way.
/// The broker keeps no state: robots use stateless <c>infer</c> requests, so any worker can answer (docs/fleet.md).
/// </summary>
public sealed class FleetBroker : IDisposable
{
    readonly RouterSocket frontend;
    readonly DealerSocket backend;
    readonly ILogger log;
    int started;

    /// <param name="curveServer">The broker's CurveZMQ key pair; required when either endpoint is beyond loopback, then used on both.</param>
    /// <param name="logger">Where the broker logs its start and stop; none when null.</param>
    public FleetBroker(string frontendAddress, string backendAddress, NetMQCertificate? curveServer = null, ProtocolLimits? limits = null, ILogger? logger = null)
    {
        log = logger ?? NullLogger.Instance;
        limits ??= ProtocolLimits.Default;
        frontend = Sockets.BindRouter(frontendAddress, curveServer, limits, out var front);
        try
        {
            backend = Sockets.BindBackend(backendAddress, curveServer, limits, out var back);
            Backend = back;
        }
        catch
        {
            frontend.Dispose();
            throw;
        }
        Frontend = front;
        // Replies to robots that left are dropped rather than queued without end.
        frontend.Options.SendHighWatermark = 1000;
    }

    /// <summary>Where robots connect (port resolved).</summary>
    public string Frontend { get; }

    /// <summary>Where workers connect (port resolved).</summary>
    public string Backend { get; }

    /// <summary>Proxies until <paramref name="cancellationToken"/> is cancelled; then closes both sockets.</summary>
    public void Run(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref started, 1) == 1)
        {
            throw new InvalidOperationException("a FleetBroker runs once");
        }
        using var poller = new NetMQPoller { frontend, backend };
        var proxy = new Proxy(frontend, backend, null, poller);
        using var registration = cancellationToken.Register(() => poller.StopAsync());
        proxy.Start();
        ServerLog.BrokerStarted(log, Frontend, Backend);
        if (!cancellationToken.IsCancellationRequested)
        {
            poller.Run();
        }
        Dispose();
        ServerLog.BrokerStopped(log);
    }

    public void Dispose()
    {
        frontend.Dispose();
        backend.Dispose();
    }
}
