using DiffPolicy.Policy;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Schedulers;
using DiffPolicy.Policy.Training;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// A PushT-shaped checkpoint with a small, randomly initialised network and a 10-step sampler: what it does is
/// meaningless, but it runs in milliseconds and is deterministic for a given noise seed.
/// </summary>
internal sealed class TinyCheckpoint : IDisposable
{
    /// <param name="obsDim">18 for PushT's keypoints; another size makes a valid checkpoint that does not fit PushT.</param>
    public TinyCheckpoint(int obsDim = 18)
    {
        var config = new PolicyConfig
        {
            ObsDim = obsDim,
            ActionDim = 2,
            Model = new ConditionalUnet1DConfig { InputDim = 2, GlobalCondDim = 2 * obsDim, DiffusionStepEmbedDim = 16, DownDims = [16, 32], KernelSize = 3 },
            Scheduler = new NoiseSchedulerConfig { InferenceSteps = 10 },
            Sampler = new Policy.Sampling.SamplerOptions { Window = 4 },
        };
        manual_seed(11);
        using var network = new ConditionalUnet1D(config.Model with { Horizon = config.Horizon });
        network.eval();
        float[] obsLimits = [.. Enumerable.Repeat(0f, obsDim), .. Enumerable.Repeat(512f, obsDim)];
        float[] actionLimits = [0, 0, 512, 512];
        PolicyCheckpoint.Save(Directory, config, network, LinearNormalizer.FitLimits(obsLimits, obsDim), LinearNormalizer.FitLimits(actionLimits, 2));
    }

    public string Directory { get; } = Path.Combine(System.IO.Directory.CreateTempSubdirectory("tiny-ckpt-").FullName, "policy");

    public DiffusionPolicy Load() => DiffusionPolicy.Load(Directory);

    public void Dispose() => System.IO.Directory.Delete(Path.GetDirectoryName(Directory)!, recursive: true);
}
