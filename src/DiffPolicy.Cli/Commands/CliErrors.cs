using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace DiffPolicy.Cli.Commands;

/// <summary>The exit codes of every verb (docs/cli.md).</summary>
internal static class ExitCodes
{
    /// <summary>The work is done.</summary>
    public const int Done = 0;

    /// <summary>The input was fine but the work failed while running: a server that does not answer, a full disk, a non-finite loss.</summary>
    public const int Failed = 1;

    /// <summary>Bad input: an option, a file or a key in a file is wrong; nothing was written.</summary>
    public const int BadInput = 2;

    /// <summary>Stopped by Ctrl-C or SIGTERM (what could be kept was saved).</summary>
    public const int Interrupted = 130;
}

/// <summary>Bad input the CLI found itself: <see cref="Subject"/> is the option (or file, or key) at fault.</summary>
internal sealed class CliInputException : Exception
{
    public CliInputException(string subject, string message)
        : base(message.StartsWith(subject, StringComparison.Ordinal) ? message : $"{subject}: {message}") => Subject = subject;

    public CliInputException(string subject, string message, Exception inner)
        : base(message.StartsWith(subject, StringComparison.Ordinal) ? message : $"{subject}: {message}", inner) => Subject = subject;

    public CliInputException()
        : this("input", "bad input")
    {
    }

    public CliInputException(string message)
        : this("input", message)
    {
    }

    public CliInputException(string message, Exception inner)
        : this("input", message, inner)
    {
    }

    public string Subject { get; }
}

/// <summary>
/// The one rule that turns a failure into what the user sees: a single line on stderr,
/// <c>diffpolicy VERB: what is wrong, naming the option, file or key</c>, and an exit code from <see cref="ExitCodes"/>.
/// Never a stack trace. Exceptions of the kinds that mean "the input is wrong" (missing or malformed files, keys
/// that do not fit, values out of range) are bad input; the rest failed at run time.
/// </summary>
internal static class CliErrors
{
    /// <summary>Runs a verb's work; any exception becomes one line on <paramref name="error"/> and its exit code.</summary>
    public static int Run(string verb, TextWriter error, Func<int> work)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(work);
        try
        {
            return work();
        }
        catch (Exception e)
        {
            error.WriteLine(Line(verb, e));
            return ExitCode(e);
        }
    }

    /// <summary>
    /// Reads what <paramref name="option"/> names (<paramref name="value"/>: its path or text); bad input found while
    /// reading it is reported as that option's, so the line names both the option and the file.
    /// </summary>
    public static T Reading<T>(string option, string value, Func<T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        try
        {
            return read();
        }
        catch (Exception e) when (e is not CliInputException && ExitCode(e) == ExitCodes.BadInput)
        {
            var message = Message(Unwrap(e));
            throw new CliInputException(option, message.Contains(value, StringComparison.Ordinal) ? message : $"'{value}': {message}", e);
        }
    }

    /// <inheritdoc cref="Reading{T}(string, string, Func{T})"/>
    public static void Reading(string option, string value, Action read)
    {
        ArgumentNullException.ThrowIfNull(read);
        Reading(option, value, () =>
        {
            read();
            return 0;
        });
    }

    public static int ExitCode(Exception e) => Unwrap(e) switch
    {
        OperationCanceledException => ExitCodes.Interrupted,
        CliInputException => ExitCodes.BadInput,
        FileNotFoundException or DirectoryNotFoundException or PathTooLongException or UnauthorizedAccessException => ExitCodes.BadInput,
        InvalidDataException or FormatException or JsonException or KeyNotFoundException or OverflowException => ExitCodes.BadInput,
        ArgumentException or NotSupportedException => ExitCodes.BadInput,
        _ => ExitCodes.Failed,
    };

    /// <summary>One line: the verb, then the message with line breaks folded; unexpected kinds name their type.</summary>
    public static string Line(string verb, Exception e)
    {
        var inner = Unwrap(e);
        var message = inner switch
        {
            OperationCanceledException => "interrupted",
            IOException or UnauthorizedAccessException or TimeoutException or InvalidOperationException or ExternalException => Message(inner),
            _ when ExitCode(inner) == ExitCodes.BadInput => Message(inner),
            _ => $"internal error ({inner.GetType().Name}): {inner.Message}",
        };
        return Line(verb, message);
    }

    /// <summary>The message, without the " (Parameter 'x')" that ArgumentException adds for programmers.</summary>
    static string Message(Exception e) => e is ArgumentException { ParamName: { } name }
        ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)
        : e.Message;

    /// <summary><c>diffpolicy VERB: message</c> on one line, at most a few hundred characters.</summary>
    public static string Line(string verb, string message) =>
        $"diffpolicy{(string.IsNullOrEmpty(verb) ? "" : " " + verb)}: {Fold(message)}";

    static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: 1 } aggregate:
                    e = aggregate.InnerExceptions[0];
                    break;
                case TargetInvocationException { InnerException: { } inner }:
                    e = inner;
                    break;
                default:
                    return e;
            }
        }
    }

    /// <summary>Longest message shown; what names the culprit comes first, and a list of 200 mismatched keys helps nobody.</summary>
    const int MaxMessage = 600;

    static string Fold(string message)
    {
        var line = string.Join("; ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= MaxMessage ? line : line[..MaxMessage] + " …";
    }
}
