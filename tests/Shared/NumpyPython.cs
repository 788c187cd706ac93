using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace DiffPolicy.Tests;

/// <summary>
/// Debian's python3, the interpreter that has python3-numpy, -msgpack and -zmq (tests/run.sh installs them): scripts
/// given on stdin (<see cref="Run"/>) and examples/python_robot.py against a server (<see cref="RunRobot"/>).
/// </summary>
internal static class NumpyPython
{
    const string Interpreter = "/usr/bin/python3";

    /// <summary>Runs <paramref name="script"/> and returns what it printed; a non-zero exit fails the test with its stderr.</summary>
    public static string Run(string script)
    {
        var (exit, output, error) = Execute(["-"], script, TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, string.Create(CultureInfo.InvariantCulture, $"python3 failed ({exit}): {error}"));
        return output;
    }

    /// <summary>
    /// Runs examples/python_robot.py against <paramref name="endpoint"/> with <c>--json</c> and <paramref name="extra"/>
    /// arguments, within 60 s; returns its summary (the last line it printed).
    /// </summary>
    public static JsonElement RunRobot(ITestOutputHelper output, string endpoint, params string[] extra)
    {
        var script = Path.Combine(RepoPaths.Root, "examples", "python_robot.py");
        var (exit, stdout, stderr) = Execute([script, "--connect", endpoint, "--json", .. extra], null, TimeSpan.FromSeconds(60));
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.True(exit == 0, $"python_robot.py exited with {exit}: {stderr}");
        return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement.Clone();
    }

    static (int Exit, string Output, string Error) Execute(IEnumerable<string> arguments, string? stdin, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardInput = stdin is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        // Both streams are drained concurrently: reading one to its end first deadlocks once python fills the other's pipe.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"python3 did not finish within {timeout.TotalSeconds:F0} s");
        }
        Task.WaitAll(output, error);
        return (process.ExitCode, output.Result, error.Result);
    }
}
