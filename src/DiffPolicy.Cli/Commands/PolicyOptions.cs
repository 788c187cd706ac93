using System.CommandLine;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Sampling;

namespace DiffPolicy.Cli.Commands;

/// <summary>What a verb that runs a checkpoint needs to load it.</summary>
internal sealed record PolicySettings(string Checkpoint, SamplingSettings Sampling, string Device = "auto", int Threads = 0, NetworkBackend Backend = NetworkBackend.Auto)
{
    /// <summary>
    /// Loads the checkpoint with the sampling settings applied and warms it up; sets the thread count (one intra-op
    /// thread when ParaDiGMS workers share the cores and --threads is not given). A checkpoint that is missing or
    /// does not fit its policy.json is bad input naming --checkpoint and the file.
    /// </summary>
    public (DiffusionPolicy Policy, string Description) Load()
    {
        var directory = Path.GetFullPath(Checkpoint);
        if (!Directory.Exists(directory) && !Directory.Exists(directory + ".old"))
            throw new CliInputException("--checkpoint", $"no checkpoint at '{directory}'. Run from the repository root, or pass --checkpoint DIR.");
        var stored = CliErrors.Reading("--checkpoint", directory,
            () => PolicyConfig.Load(Path.Combine(AtomicDirectory.Resolve(directory), PolicyCheckpoint.ConfigFile)));
        var (scheduler, sampler) = Sampling.Resolve(stored);
        TorchRuntime.SetThreads(Threads == 0 && sampler.Method == SamplerMethod.Paradigms && sampler.Workers > 1 ? 1 : Threads);
        var device = CliErrors.Reading("--device", Device, () => TorchRuntime.ResolveDevice(Device));
        var policy = CliErrors.Reading("--checkpoint", directory, () => DiffusionPolicy.Load(directory, device, scheduler, sampler, Backend));
        try
        {
            policy.WarmUp();
        }
        catch
        {
            policy.Dispose();
            throw;
        }
        return (policy, SamplingSettings.Describe(scheduler, sampler));
    }
}

/// <summary>The options of every verb that loads a checkpoint to run it (eval, serve, soak): checkpoint, sampling, device, threads.</summary>
internal sealed class PolicyOptions
{
    public const string DefaultCheckpoint = "checkpoints/pusht";

    public Option<DirectoryInfo> Checkpoint { get; } = CliOptions.Checkpoint("Policy checkpoint directory (policy.json, unet.safetensors, normalizer.safetensors).");

    public SamplingOptions Sampling { get; } = new();

    public Option<string> Device { get; } = CliOptions.Device();

    public Option<int> Threads { get; } = CliOptions.Threads();

    public Option<NetworkBackend> Backend { get; } = CliOptions.Choice("--backend",
        "Network implementation: auto (fast on a CPU, torch on CUDA), fast (fused CPU forward) or torch (TorchSharp).", NetworkBackend.Auto);

    public IEnumerable<Option> All => new Option[] { Checkpoint, Device, Threads, Backend }.Concat(Sampling.All);

    public PolicySettings Bind(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return new(parse.GetValue(Checkpoint)!.FullName, Sampling.Bind(parse), parse.GetValue(Device)!, parse.GetValue(Threads), parse.GetValue(Backend));
    }

    /// <summary>
    /// The network of a policy checkpoint (policy.json, from train) or of a network checkpoint (unet.config.json, from
    /// import), eval mode, prepared for inference; what is missing or does not fit is bad input naming --checkpoint.
    /// </summary>
    public static ConditionalUnet1D LoadNetwork(string directory) =>
        Reading(directory, () => IsPolicy(directory) ? PolicyCheckpoint.Load(directory).Network : UnetCheckpoint.Load(directory));

    /// <summary>
    /// As <see cref="LoadNetwork"/>, for any policy checkpoint (an image policy too): the network, and for a policy
    /// checkpoint all its parts (null for a network checkpoint). Disposing the parts disposes the network.
    /// </summary>
    public static (ConditionalUnet1D Network, PolicyParts? Policy) LoadCheckpoint(string directory) =>
        Reading(directory, () =>
        {
            if (!IsPolicy(directory)) return (UnetCheckpoint.Load(directory), (PolicyParts?)null);
            var parts = PolicyCheckpoint.LoadParts(directory);
            return (parts.Network, parts);
        });

    static bool IsPolicy(string directory) => File.Exists(Path.Combine(AtomicDirectory.Resolve(directory), PolicyCheckpoint.ConfigFile));

    static T Reading<T>(string directory, Func<T> read)
    {
        if (!System.IO.Directory.Exists(directory) && !System.IO.Directory.Exists(directory + ".old"))
            throw new CliInputException("--checkpoint", $"no checkpoint at '{directory}'.");
        return CliErrors.Reading("--checkpoint", directory, read);
    }
}
