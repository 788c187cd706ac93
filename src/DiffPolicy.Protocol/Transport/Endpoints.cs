using System.Net;

namespace DiffPolicy.Protocol.Transport;

/// <summary>ZeroMQ endpoint strings (<c>tcp://host:port</c>, <c>ipc://…</c>, <c>inproc://…</c>).</summary>
public static class Endpoints
{
    /// <summary>True when only this machine can reach the endpoint: a loopback TCP host, or ipc/inproc.</summary>
    public static bool IsLoopback(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.StartsWith("inproc://", StringComparison.Ordinal) || address.StartsWith("ipc://", StringComparison.Ordinal))
        {
            // NetMQ's ipc is TCP on loopback.
            return true;
        }
        if (!address.StartsWith("tcp://", StringComparison.Ordinal))
        {
            return false;
        }
        var host = SplitTcp(address).Host;
        return host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    /// <summary>Splits <c>tcp://host:port</c>; the port may be <c>*</c> or <c>0</c> (any free port).</summary>
    internal static (string Host, string Port) SplitTcp(string address)
    {
        var rest = address["tcp://".Length..];
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || colon == rest.Length - 1)
        {
            throw new ArgumentException($"'{address}' is not tcp://host:port", nameof(address));
        }
        return (rest[..colon], rest[(colon + 1)..]);
    }
}
