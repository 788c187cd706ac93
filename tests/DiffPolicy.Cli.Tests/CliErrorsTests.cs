using System.Text.Json;
using DiffPolicy.Cli.Commands;
using DiffPolicy.Policy.Checkpoints;

namespace DiffPolicy.Cli.Tests;

/// <summary>The one error rule (docs/cli.md, Exit codes): which failures are bad input, which failed at run time, and the one line.</summary>
public sealed class CliErrorsTests
{
    public static TheoryData<Exception, int> Kinds => new()
    {
        { new CliInputException("--json", "is a folder"), ExitCodes.BadInput },
        { new FileNotFoundException("no file"), ExitCodes.BadInput },
        { new DirectoryNotFoundException("no folder"), ExitCodes.BadInput },
        { new UnauthorizedAccessException("denied"), ExitCodes.BadInput },
        { new InvalidDataException("bad data"), ExitCodes.BadInput },
        { new StateDictMismatchException("unet.safetensors", ["a"], [], []), ExitCodes.BadInput },
        { new JsonException("cut"), ExitCodes.BadInput },
        { new KeyNotFoundException("no key"), ExitCodes.BadInput },
        { new OverflowException("huge"), ExitCodes.BadInput },
        { new ArgumentOutOfRangeException("window", 0, "too small"), ExitCodes.BadInput },
        { new OperationCanceledException(), ExitCodes.Interrupted },
        { new AggregateException(new OperationCanceledException()), ExitCodes.Interrupted },
        { new IOException("No space left on device"), ExitCodes.Failed },
        { new TimeoutException("no answer"), ExitCodes.Failed },
        { new InvalidOperationException("loss became NaN"), ExitCodes.Failed },
        { new NullReferenceException(), ExitCodes.Failed },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_kind_of_failure_has_its_exit_code_and_one_line(Exception failure, int exitCode)
    {
        using var error = new StringWriter();
        var code = CliErrors.Run("eval", error, () => throw failure);
        Assert.Equal(exitCode, code);
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("diffpolicy eval: ", lines[0], StringComparison.Ordinal);
        Assert.Equal(failure is NullReferenceException, lines[0].Contains("internal error (NullReferenceException)", StringComparison.Ordinal));
    }

    [Fact]
    public void Long_and_multi_line_messages_become_one_bounded_line_that_starts_with_the_culprit()
    {
        var keys = Enumerable.Range(0, 300).Select(i => $"down_modules.{i}.weight").ToList();
        var mismatch = new StateDictMismatchException("/ckpt/unet.safetensors", keys, [], []);
        var line = CliErrors.Line("serve", new CliInputException("--checkpoint", mismatch.Message, mismatch));
        Assert.DoesNotContain("\n", line, StringComparison.Ordinal);
        Assert.StartsWith("diffpolicy serve: --checkpoint: The weights in '/ckpt/unet.safetensors'", line, StringComparison.Ordinal);
        Assert.InRange(line.Length, 100, 700);
    }

    [Fact]
    public void Reading_names_the_option_and_the_file_and_leaves_run_time_failures_alone()
    {
        var bad = Assert.Throws<CliInputException>(() => CliErrors.Reading<int>("--data", "/d.npz", () => throw new InvalidDataException("no 'action' array")));
        Assert.Equal("--data: '/d.npz': no 'action' array", bad.Message);
        var named = Assert.Throws<CliInputException>(() => CliErrors.Reading<int>("--data", "/d.npz", () => throw new InvalidDataException("'/d.npz' is cut")));
        Assert.Equal("--data: '/d.npz' is cut", named.Message);
        Assert.Throws<IOException>(() => CliErrors.Reading<int>("--data", "/d.npz", () => throw new IOException("disk error")));
        // ArgumentException's " (Parameter 'window')" is for programmers, not users.
        Assert.Equal("diffpolicy eval: window must be positive", CliErrors.Line("eval", new ArgumentException("window must be positive", "window")));
    }
}
