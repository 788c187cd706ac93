using System.Diagnostics;
using System.Globalization;

namespace DiffPolicy.Tests;

/// <summary>Runs a script on Debian's python3 with numpy (installed by .ci/run) and returns what it printed.</summary>
internal static class NumpyPython
{
    public static string Run(string script)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", "-")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        // Both streams are drained concurrently: reading one to its end first deadlocks once python fills the other's pipe.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(script);
        process.StandardInput.Close();
        process.WaitForExit();
        Task.WaitAll(output, error);
        Assert.True(process.ExitCode == 0, string.Create(CultureInfo.InvariantCulture, $"python3 failed ({process.ExitCode}): {error.Result}"));
        return output.Result;
    }
}
