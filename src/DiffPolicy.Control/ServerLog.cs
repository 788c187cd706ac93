using Microsoft.Extensions.Logging;

namespace DiffPolicy.Control;

/// <summary>
/// What the policy server logs, each event once, structured (event id, name and fields): sessions opened, replaced
/// and forgotten, refusals by error code, failed and late inferences, the broker's start and stop. Refusals are logged
/// at most <see cref="LogBudget.PerSecond"/> times per connection per second; the rest are counted in the next line
/// logged for that connection, so a hostile robot cannot flood the log.
/// </summary>
internal static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Information, "serving {Endpoint}: up to {MaxRobots} robots, batches of {MaxBatch}")]
    public static partial void Started(ILogger logger, string endpoint, int maxRobots, int maxBatch);

    [LoggerMessage(2, LogLevel.Information, "robot {Robot} opened a session on connection {Connection}")]
    public static partial void SessionOpened(ILogger logger, string robot, string connection);

    [LoggerMessage(3, LogLevel.Information, "robot {Robot} said hello again on connection {Connection}: its previous session is replaced")]
    public static partial void SessionReplaced(ILogger logger, string robot, string connection);

    [LoggerMessage(4, LogLevel.Information, "robot {Robot} forgotten ({Reason})")]
    public static partial void SessionForgotten(ILogger logger, string robot, string reason);

    [LoggerMessage(5, LogLevel.Warning, "refused {Code} from connection {Connection}: {Detail}{Unlogged}")]
    public static partial void Refused(ILogger logger, string code, string connection, string detail, string unlogged);

    [LoggerMessage(6, LogLevel.Error, "the policy failed for {Robot} (seq {Seq}): {Error}")]
    public static partial void PolicyFailed(ILogger logger, string robot, ulong seq, string error);

    [LoggerMessage(7, LogLevel.Warning, "chunk for {Robot} (seq {Seq}) answered {LateMs:F0} ms after it was due ({WaitedMs:F0} ms queued, {InferMs:F0} ms inference)")]
    public static partial void LateChunk(ILogger logger, string robot, ulong seq, double lateMs, double waitedMs, double inferMs);

    [LoggerMessage(8, LogLevel.Debug, "chunk for {Robot} (seq {Seq}): {InferMs:F0} ms, {Iterations} iterations")]
    public static partial void Chunk(ILogger logger, string robot, ulong seq, double inferMs, int iterations);

    [LoggerMessage(9, LogLevel.Information, "stopped after {Chunks} chunks, {Forgotten} sessions forgotten, {Refusals} refusals")]
    public static partial void Stopped(ILogger logger, long chunks, long forgotten, long refusals);

    [LoggerMessage(10, LogLevel.Information, "broker: robots connect to {Frontend}, workers to {Backend}")]
    public static partial void BrokerStarted(ILogger logger, string frontend, string backend);

    [LoggerMessage(11, LogLevel.Information, "broker stopped")]
    public static partial void BrokerStopped(ILogger logger);
}

/// <summary>
/// At most <see cref="PerSecond"/> log lines per connection in each one-second window, counting the lines left out.
/// Used by the socket thread only.
/// </summary>
internal sealed class LogBudget
{
    public const int PerSecond = 5;

    readonly ErrorReplyBudget budget = new(PerSecond);
    readonly Dictionary<string, long> unlogged = [];

    /// <summary>Whether a line about <paramref name="connection"/> may be logged now, and how many were left out before it.</summary>
    public bool TrySpend(string connection, out long leftOut)
    {
        if (!budget.TrySpend(connection))
        {
            unlogged[connection] = unlogged.GetValueOrDefault(connection) + 1;
            leftOut = 0;
            return false;
        }
        unlogged.Remove(connection, out leftOut);
        return true;
    }

    /// <summary>Forgets connections whose window has ended (the left-out counts of connections gone quiet are dropped).</summary>
    public void Expire()
    {
        budget.Expire();
        if (unlogged.Count > 1024) unlogged.Clear();
    }
}
