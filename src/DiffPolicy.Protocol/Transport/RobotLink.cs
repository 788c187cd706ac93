using System.Diagnostics.CodeAnalysis;
using NetMQ;
using NetMQ.Sockets;

namespace DiffPolicy.Protocol.Transport;

/// <summary>
/// The robot's end: a DEALER speaking <see cref="Message"/>s. Not thread-safe; use it from one thread.
/// </summary>
public sealed class RobotLink : IDisposable
{
    readonly DealerSocket socket;
    readonly ProtocolLimits limits;

    public RobotLink(string address, CurveClientKeys? curve = null, ProtocolLimits? limits = null)
    {
        socket = Sockets.ConnectDealer(address, curve);
        this.limits = limits ?? ProtocolLimits.Default;
    }

    /// <summary>Queues <paramref name="message"/>; false when the send queue is full (the server is gone or not reading).</summary>
    public bool Send(Message message) => socket.TrySendFrame(TimeSpan.Zero, MessageCodec.Encode(message));

    /// <summary>Waits up to <paramref name="timeout"/> for the next message; a frame that does not decode throws <see cref="ProtocolException"/>.</summary>
    public bool TryReceive(TimeSpan timeout, [NotNullWhen(true)] out Message? message)
    {
        message = null;
        // NetMQ truncates the timeout to whole milliseconds, and a non-zero timeout that truncates to 0 never expires.
        timeout = timeout == Timeout.InfiniteTimeSpan ? timeout : timeout <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Ceiling(timeout.TotalMilliseconds));
        if (!socket.TryReceiveFrameBytes(timeout, out var frame, out var more))
        {
            return false;
        }
        if (more)
        {
            socket.SkipMultipartMessage();
            throw new ProtocolException(ErrorCodes.BadFrame, "the server sent a multi-frame message");
        }
        message = MessageCodec.Decode(frame, limits);
        return true;
    }

    public void Dispose() => socket.Dispose();
}
