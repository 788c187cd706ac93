using System.CommandLine;

namespace DiffPolicy.Cli.Commands;

/// <summary>Options shared by several verbs, defined once so they read the same everywhere.</summary>
internal static class CommonOptions
{
    public static Option<string> Device() => new("--device")
    {
        Description = "Torch device: auto (CUDA when available, else CPU), cpu, cuda or cuda:N.",
        DefaultValueFactory = _ => "auto",
    };

    public static Option<string> Backend() => new("--backend")
    {
        Description = "Network implementation: auto (fast on a CPU, torch on CUDA), fast (fused CPU forward) or torch (TorchSharp).",
        DefaultValueFactory = _ => "auto",
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "libtorch intra-op threads (0 = libtorch's default: one per core).",
        DefaultValueFactory = _ => 0,
    };
}
