using DiffPolicy.Policy;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Training;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// A PushT-shaped checkpoint with a small, randomly initialised network and a 10-step sampler: what it does is
/// meaningless, but it runs in milliseconds and is deterministic for a given noise seed.
/// </summary>
internal sealed class TinyCheckpoint : IDisposable
{
    public TinyCheckpoint()
    {
        var config = new PolicyConfig
        {
            ObsDim = 18,
            ActionDim = 2,
            Model = new ConditionalUnet1DConfig { InputDim = 2, GlobalCondDim = 36, DiffusionStepEmbedDim = 16, DownDims = [16, 32], KernelSize = 3 },
            Scheduler = new NoiseSchedulerConfig { InferenceSteps = 10 },
            Sampler = new Policy.Sampling.SamplerOptions { Window = 4 },
        };
        manual_seed(11);
        using var network = new ConditionalUnet1D(config.Model with { Horizon = config.Horizon });
        network.eval();
        float[] obsLimits = [.. Enumerable.Repeat(0f, 18), .. Enumerable.Repeat(512f, 18)];
        float[] actionLimits = [0, 0, 512, 512];
        PolicyCheckpoint.Save(Directory, config, network, LinearNormalizer.FitLimits(obsLimits, 18), LinearNormalizer.FitLimits(actionLimits, 2));
    }

    public string Directory { get; } = Path.Combine(System.IO.Directory.CreateTempSubdirectory("tiny-ckpt-").FullName, "policy");

    public DiffusionPolicy Load() => DiffusionPolicy.Load(Directory);

    public void Dispose() => System.IO.Directory.Delete(Path.GetDirectoryName(Directory)!, recursive: true);
}
