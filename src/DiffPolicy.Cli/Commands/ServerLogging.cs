using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// <c>--log-level</c> of the server verbs (serve, broker) and the console log it selects: one line per event on stderr
/// (stdout keeps the verb's own lines), UTC timestamps, the event's category and id.
/// </summary>
internal static class ServerLogging
{
    public static Option<LogLevel> LevelOption() => CliOptions.Choice("--log-level",
        "What the server logs to stderr: sessions opened, replaced and forgotten and the broker's start and stop (information), refusals by error code (bounded per connection) and late chunks (warning), failed inferences (error), every chunk (debug).",
        LogLevel.Information);

    /// <summary>A console logger factory at <paramref name="level"/>; dispose it to flush the lines not yet written.</summary>
    public static ILoggerFactory Create(LogLevel level) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(level);
        // A server never waits for its log: when stderr is not read (a full pipe), lines are dropped, not the robots' chunks.
        builder.AddConsole(console =>
        {
            console.LogToStandardErrorThreshold = LogLevel.Trace;
            console.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite;
        });
        builder.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.UseUtcTimestamp = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            console.ColorBehavior = LoggerColorBehavior.Disabled;
        });
    });
}
