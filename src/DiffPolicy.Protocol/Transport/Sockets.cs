using NetMQ;
using NetMQ.Sockets;

namespace DiffPolicy.Protocol.Transport;

/// <summary>Creates the two socket ends of the protocol with the options it relies on.</summary>
public static class Sockets
{
    /// <summary>
    /// A ROUTER bound to <paramref name="address"/> (port <c>*</c> or <c>0</c>: any free port). Binding to anything but
    /// loopback requires <paramref name="curveServer"/> (a key pair); with it, only CurveZMQ clients can connect.
    /// </summary>
    /// <param name="endpoint">The endpoint actually bound, with the port resolved.</param>
    public static RouterSocket BindRouter(string address, NetMQCertificate? curveServer, ProtocolLimits limits, out string endpoint)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(limits);
        if (curveServer is null && !Endpoints.IsLoopback(address))
        {
            throw new ArgumentException(
                $"binding '{address}' exposes the server beyond this machine: give it CurveZMQ server keys, or bind a loopback address",
                nameof(address));
        }
        if (curveServer is { HasSecretKey: false })
        {
            throw new ArgumentException("the CurveZMQ server certificate needs its secret key", nameof(curveServer));
        }
        var bound = "";
        var router = Configured(new RouterSocket(), socket =>
        {
            SetServerOptions(socket, curveServer, limits);
            bound = Bind(socket, address);
        });
        endpoint = bound;
        return router;
    }

    /// <summary>A DEALER connected to <paramref name="address"/>; it reconnects by itself when the server comes back.</summary>
    public static DealerSocket ConnectDealer(string address, CurveClientKeys? curve)
    {
        ArgumentNullException.ThrowIfNull(address);
        return Configured(new DealerSocket(), socket =>
        {
            socket.Options.Linger = TimeSpan.Zero;
            socket.Options.SendHighWatermark = 100;
            socket.Options.ReceiveHighWatermark = 100;
            SetCurveClient(socket, curve);
            socket.Connect(address);
        });
    }

    /// <summary>
    /// A policy server's DEALER connected to a broker's backend (<paramref name="address"/>): it receives each robot's
    /// frame behind the robot's routing identity and answers the same way. Beyond loopback it needs
    /// <paramref name="curve"/>, the broker's public key.
    /// </summary>
    public static DealerSocket ConnectWorker(string address, CurveClientKeys? curve, ProtocolLimits limits)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(limits);
        if (curve is null && !Endpoints.IsLoopback(address))
        {
            throw new ArgumentException($"connecting to the broker at '{address}' leaves this machine: give the broker's CurveZMQ public key", nameof(address));
        }
        return Configured(new DealerSocket(), socket =>
        {
            socket.Options.Linger = TimeSpan.FromMilliseconds(200);
            socket.Options.MaxMsgSize = 4L * limits.MaxFrameBytes;
            socket.Options.SendHighWatermark = 10_000;
            socket.Options.ReceiveHighWatermark = 10_000;
            SetCurveClient(socket, curve);
            socket.Connect(address);
        });
    }

    /// <summary>
    /// A broker's backend: a DEALER bound to <paramref name="address"/> that spreads requests over the connected
    /// workers (ZeroMQ's round robin, skipping workers whose queue is full) and notices a dead worker within
    /// ≈ 2 s by ZMTP heartbeats even when its machine vanished without closing the connection.
    /// </summary>
    public static DealerSocket BindBackend(string address, NetMQCertificate? curveServer, ProtocolLimits limits, out string endpoint)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(limits);
        if (curveServer is null && !Endpoints.IsLoopback(address))
        {
            throw new ArgumentException(
                $"binding '{address}' lets workers connect from beyond this machine: give CurveZMQ keys, or bind a loopback address", nameof(address));
        }
        var bound = "";
        var backend = Configured(new DealerSocket(), socket =>
        {
            SetServerOptions(socket, curveServer, limits);
            // A worker's queue holds at most this many requests; the round robin passes a worker whose queue is full.
            socket.Options.SendHighWatermark = 64;
            socket.Options.HeartbeatInterval = TimeSpan.FromMilliseconds(500);
            socket.Options.HeartbeatTimeout = TimeSpan.FromMilliseconds(2000);
            bound = Bind(socket, address);
        });
        endpoint = bound;
        return backend;
    }

    /// <summary>Applies <paramref name="setup"/> to a new socket; a socket whose set-up fails is disposed, not leaked.</summary>
    static T Configured<T>(T socket, Action<T> setup) where T : NetMQSocket
    {
        try
        {
            setup(socket);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The options of a bound end (router or broker backend).</summary>
    static void SetServerOptions(NetMQSocket socket, NetMQCertificate? curveServer, ProtocolLimits limits)
    {
        socket.Options.Linger = TimeSpan.FromMilliseconds(200);
        // Beyond this a peer is disconnected by ZeroMQ; up to it, the codec answers too_large.
        socket.Options.MaxMsgSize = 4L * limits.MaxFrameBytes;
        if (curveServer is not null)
        {
            socket.Options.CurveServer = true;
            socket.Options.CurveCertificate = curveServer;
        }
    }

    static void SetCurveClient(NetMQSocket socket, CurveClientKeys? curve)
    {
        if (curve is null) return;
        socket.Options.CurveServerKey = curve.ServerPublicKey;
        socket.Options.CurveCertificate = curve.ClientCertificate;
    }

    static string Bind(NetMQSocket socket, string address)
    {
        if (address.StartsWith("tcp://", StringComparison.Ordinal))
        {
            var (host, port) = Endpoints.SplitTcp(address);
            if (port is "*" or "0")
            {
                var chosen = socket.BindRandomPort("tcp://" + host);
                return $"tcp://{host}:{chosen}";
            }
        }
        socket.Bind(address);
        return address;
    }
}
