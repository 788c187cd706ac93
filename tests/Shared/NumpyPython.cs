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
        process.StandardInput.Write(script);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, string.Create(CultureInfo.InvariantCulture, $"python3 failed ({process.ExitCode}): {error}"));
        return output;
    }
}
