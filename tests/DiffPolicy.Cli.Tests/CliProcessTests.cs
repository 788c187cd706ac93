using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DiffPolicy.Cli.Commands;
using DiffPolicy.Data;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// <c>diffpolicy</c> as a process: a signal makes <c>train</c> save and exit 130, and the next start resumes from that
/// save; bad input and a full disk end in one stderr line and the documented exit code, with no stack trace.
/// </summary>
public sealed class CliProcessTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cli-process-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "diffpolicy.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    /// <summary>
    /// How long a child may take before the test calls it hung: a hang guard, not a timing. At nice 19 beside a run
    /// using both cores, a child gets a small share of one, and starting .NET and libtorch takes seconds of CPU.
    /// </summary>
    static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(10);

    /// <summary>Runs to the end; stdout and stderr read concurrently (a full pipe would block the child).</summary>
    static async Task<(int Exit, string Error)> Run(params string[] args)
    {
        using var process = Start(args);
        try
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            Assert.True(process.WaitForExit(HangGuard), $"diffpolicy did not finish within {HangGuard.TotalMinutes} minutes");
            await output;
            return (process.ExitCode, await error);
        }
        finally
        {
            EndIfRunning(process);
        }
    }

    /// <summary>A child a failed assertion leaves behind would go on using the CPU, and the folder it writes in would be deleted under it.</summary>
    static void EndIfRunning(Process process)
    {
        if (process.HasExited) return;
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    [Theory]
    [InlineData("eval --episodes 0", ExitCodes.BadInput, "--episodes")]
    [InlineData("frobnicate", ExitCodes.BadInput, "'frobnicate'")]
    [InlineData("bench sim --rounds 1 --repeats 1 --json /dev/full", ExitCodes.Failed, "/dev/full")]
    public async Task A_process_ends_bad_input_and_failures_with_one_line_and_the_documented_code(string commandLine, int exit, string named)
    {
        var (code, error) = await Run(commandLine.Split(' '));
        Assert.Equal(exit, code);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, error);
        Assert.Contains(named, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Train_saves_on_a_signal_exits_130_and_the_next_start_resumes_from_the_save(string signal)
    {
        string config = Path.Combine(root, "config.json"), data = Path.Combine(root, "demos.npz"), run = Path.Combine(root, "run");
        var policy = BadInputSweep.TrainConfig(steps: 1_000_000);
        File.WriteAllText(config, (policy with { Training = policy.Training with { SaveEvery = 1_000_000, ValEvery = 1_000_000 } }).ToJson());
        Npz.Save(data, BadInputSweep.DemonstrationArrays());

        var log = Path.Combine(run, "log.csv");
        string stderr;
        using (var train = Start("train", "--config", config, "--data", data, "--out", run, "--threads", "1"))
        {
            try
            {
                var output = train.StandardOutput.ReadToEndAsync();
                var error = train.StandardError.ReadToEndAsync();
                var deadline = DateTime.UtcNow + HangGuard;
                while (LoggedSteps(log) < 3 && !train.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(200);
                Assert.False(train.HasExited, $"train ended before the signal: {(train.HasExited ? await error : "")}");
                Assert.True(LoggedSteps(log) >= 3, $"train logged fewer than 3 steps within {HangGuard.TotalMinutes} minutes");

                using (var kill = Process.Start("kill", ["-" + signal, train.Id.ToString(CultureInfo.InvariantCulture)])) kill.WaitForExit();
                Assert.True(train.WaitForExit(HangGuard), $"train did not stop within {HangGuard.TotalMinutes} minutes of SIG{signal}");
                await output;
                stderr = await error;
                Assert.True(train.ExitCode == ExitCodes.Interrupted, $"exit {train.ExitCode}: {stderr}");
            }
            finally
            {
                EndIfRunning(train);
            }
        }
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);

        // The save holds the last logged step: nothing trained was lost.
        using var progress = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "state", "progress.json")));
        var saved = progress.RootElement.GetProperty("Step").GetInt32();
        Assert.Equal(LoggedSteps(log), saved);
        Assert.True(File.Exists(Path.Combine(run, "policy", "policy.json")));

        var resumed = new TrainCommand().Run(new TrainCommand.Settings(config, data, run, Steps: saved + 2, Threads: 1));
        Assert.Equal(ExitCodes.Done, resumed);
        var steps = File.ReadAllLines(log).Skip(1).Select(l => int.Parse(l.Split(',')[0], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(1, saved + 2), steps);
    }

    [Fact]
    public async Task Eval_stopped_by_ctrl_c_writes_the_report_of_the_episodes_done_and_exits_130()
    {
        using var checkpoint = new TinyCheckpoint();
        string videos = Path.Combine(root, "videos"), report = Path.Combine(root, "eval.json");
        using (var eval = Start("eval", "--checkpoint", checkpoint.Directory, "--episodes", "50", "--max-steps", "30", "--transport", "direct",
            "--threads", "1", "--video", videos, "--json", report))
        {
            try
            {
                var output = eval.StandardOutput.ReadToEndAsync();
                var error = eval.StandardError.ReadToEndAsync();
                var deadline = DateTime.UtcNow + HangGuard;
                while (!File.Exists(Path.Combine(videos, "episode_100000.gif")) && !eval.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(200);
                Assert.False(eval.HasExited, $"eval ended before the signal: {(eval.HasExited ? await error : "")}");

                using (var kill = Process.Start("kill", ["-INT", eval.Id.ToString(CultureInfo.InvariantCulture)])) kill.WaitForExit();
                Assert.True(eval.WaitForExit(HangGuard), $"eval did not stop within {HangGuard.TotalMinutes} minutes of Ctrl-C");
                await output;
                var stderr = await error;
                Assert.True(eval.ExitCode == ExitCodes.Interrupted, $"exit {eval.ExitCode}: {stderr}");
            }
            finally
            {
                EndIfRunning(eval);
            }
        }

        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var episodes = json.RootElement.GetProperty("episodes").GetInt32();
        Assert.InRange(episodes, 1, 49);
        Assert.Equal(episodes, Directory.GetFiles(videos, "episode_*.gif").Length);
    }

    static int LoggedSteps(string log)
    {
        try
        {
            return File.Exists(log) ? File.ReadAllLines(log).Skip(1).Count(l => l.Contains(',', StringComparison.Ordinal)) : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
