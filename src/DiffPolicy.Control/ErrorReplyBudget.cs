using System.Diagnostics;

namespace DiffPolicy.Control;

/// <summary>
/// At most <c>perSecond</c> error replies per connection in each one-second window: a client flooding the server with
/// bad frames gets its first replies and no more that second, so the flood does not also flood the way back.
/// Used by the socket thread only.
/// </summary>
internal sealed class ErrorReplyBudget(int perSecond)
{
    readonly Dictionary<string, (long Start, int Sent)> windows = [];

    /// <summary>Whether an error reply may go to <paramref name="connection"/> now; if so, it is spent.</summary>
    public bool TrySpend(string connection)
    {
        var now = Stopwatch.GetTimestamp();
        if (!windows.TryGetValue(connection, out var window) || Stopwatch.GetElapsedTime(window.Start, now) >= TimeSpan.FromSeconds(1))
        {
            window = (now, 0);
        }
        if (window.Sent >= perSecond)
        {
            return false;
        }
        windows[connection] = (window.Start, window.Sent + 1);
        return true;
    }

    /// <summary>Forgets connections whose window has ended, so the table holds only the last second's senders.</summary>
    public void Expire()
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var (connection, window) in windows)
        {
            if (Stopwatch.GetElapsedTime(window.Start, now) >= TimeSpan.FromSeconds(1))
            {
                windows.Remove(connection);
            }
        }
    }
}
