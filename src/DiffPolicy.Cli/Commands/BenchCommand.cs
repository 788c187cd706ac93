using System.CommandLine;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy bench</c>: benchmarks, each a subcommand in its own file.</summary>
internal static class BenchCommand
{
    public static Command Create() => new("bench", "Benchmarks, run side by side in one process (this machine is shared and noisy).")
    {
        BenchSamplerCommand.Create(),
        BenchNetworkCommand.Create(),
        BenchSimCommand.Create(),
    };
}
