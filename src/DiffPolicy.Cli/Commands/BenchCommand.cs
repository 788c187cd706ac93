using System.CommandLine;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy bench …</c>: benchmarks, one subcommand per component.</summary>
internal static class BenchCommand
{
    public static Command Create() => new("bench", "Benchmarks: simulator throughput (and sampler timing).")
    {
        BenchSimCommand.Create(),
    };
}
