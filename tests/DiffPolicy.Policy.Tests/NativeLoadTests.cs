using System.Diagnostics;
using DiffPolicy.Policy;
using TorchSharp;

namespace DiffPolicy.Policy.Tests;

/// <summary>The build output must load libtorch by itself, on Debian 12 as elsewhere.</summary>
public class NativeLoadTests
{
    static readonly string Output = AppContext.BaseDirectory;

    [Fact]
    public void Libtorch_loads_from_the_build_output_and_reports_2_10()
    {
        using var x = torch.ones(3);
        Assert.Equal(3.0, x.sum().item<float>(), 6);
        Assert.StartsWith("2.10", TorchRuntime.LibTorchVersion, StringComparison.Ordinal);
        // TorchSharp's fallback loader copies natives from the NuGet cache into cpu/ only when the
        // library next to the app failed to load; it must not have been needed.
        Assert.False(Directory.Exists(Path.Combine(Output, "cpu")), "the fallback loader ran: the output's library did not load");
    }

    [Fact]
    public void Output_library_has_a_weak_GLIBCXX_3_4_32_requirement_exactly_when_the_system_lacks_it()
    {
        if (!OperatingSystem.IsLinux()) return;
        var library = Path.Combine(Output, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(library), library);
        var versions = Run("readelf", $"-V --wide \"{library}\"");
        var requirement = versions.Split('\n').Single(l => l.Contains("Name: GLIBCXX_3.4.32", StringComparison.Ordinal));

        var libstdcxx = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6" }.First(File.Exists);
        var systemHasIt = Run("readelf", $"-V --wide \"{libstdcxx}\"").Contains("GLIBCXX_3.4.32", StringComparison.Ordinal);
        Assert.Equal(!systemHasIt, requirement.Contains("WEAK", StringComparison.Ordinal));
    }

    static string Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return output;
    }
}
