using System.CommandLine;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;

namespace DiffPolicy.Cli.Commands;

/// <summary>The options of every verb that loads a checkpoint to run it (eval, serve, soak): checkpoint, sampling, device, threads.</summary>
internal sealed class PolicyOptions
{
    public const string DefaultCheckpoint = "checkpoints/pusht";

    public Option<DirectoryInfo> Checkpoint { get; } = new("--checkpoint")
    {
        Description = "Policy checkpoint directory (policy.json, unet.safetensors, normalizer.safetensors).",
        DefaultValueFactory = _ => new DirectoryInfo(DefaultCheckpoint),
    };

    public SamplingOptions Sampling { get; } = new();

    public Option<string> Device { get; } = CommonOptions.Device();

    public Option<int> Threads { get; } = CommonOptions.Threads();

    public Option<string> Backend { get; } = CommonOptions.Backend();

    public IEnumerable<Option> All => new Option[] { Checkpoint, Device, Threads, Backend }.Concat(Sampling.All);

    /// <summary>The checkpoint's directory, or null (after saying why on stderr) when there is none.</summary>
    public string? Directory(ParseResult parse, string verb)
    {
        ArgumentNullException.ThrowIfNull(parse);
        string directory = parse.GetValue(Checkpoint)!.FullName;
        if (System.IO.Directory.Exists(directory) || System.IO.Directory.Exists(directory + ".old")) return directory;
        Console.Error.WriteLine($"{verb}: no checkpoint at '{directory}'. Run from the repository root, or pass --checkpoint DIR.");
        return null;
    }

    /// <summary>
    /// Loads the checkpoint at <paramref name="directory"/> with the sampling options applied and warms it up; sets the
    /// thread count (one intra-op thread when ParaDiGMS workers share the cores and --threads is not given).
    /// </summary>
    public (DiffusionPolicy Policy, string Sampler) Load(ParseResult parse, string directory)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var stored = PolicyConfig.Load(Path.Combine(AtomicDirectory.Resolve(directory), PolicyCheckpoint.ConfigFile));
        var (scheduler, sampler) = Sampling.Resolve(parse, stored);
        int threads = parse.GetValue(Threads);
        TorchRuntime.SetThreads(threads == 0 && sampler.Method == Policy.Sampling.SamplerMethod.Paradigms && sampler.Workers > 1 ? 1 : threads);
        var policy = DiffusionPolicy.Load(directory, TorchRuntime.ResolveDevice(parse.GetValue(Device)!), scheduler, sampler,
            NoisePredictors.Parse(parse.GetValue(Backend)!));
        policy.WarmUp();
        return (policy, SamplingOptions.Describe(scheduler, sampler));
    }
}
