using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// What the sampler tests share: the original network's small weights (fixtures/unet), the 100-step training schedule,
/// schedulers from the one factory (<see cref="NoiseSchedulerConfig.Create"/>) and N(0, I) conditioning from a seed.
/// </summary>
public abstract class UnetSamplingFixture : IDisposable
{
    protected ConditionalUnet1D Network { get; } = UnetCheckpoint.Import(Fixtures.Unet("unet_small.safetensors"), Fixtures.Unet("unet_small.config.json"));

    protected NoiseSchedule Schedule { get; } = new(100);

    /// <summary>The scheduler <paramref name="solver"/> (ddpm, ddim, dpm_solver) with <paramref name="steps"/> steps and the default config.</summary>
    protected DiffusionScheduler Create(string solver, int steps) =>
        new NoiseSchedulerConfig { Solver = SolverNames.Parse(solver, "solver"), InferenceSteps = steps }.Create(Schedule);

    /// <summary>(batch, global_cond_dim) N(0, I) conditioning from its own generator.</summary>
    protected Tensor Condition(int batch, long seed)
    {
        using var generator = new Generator((ulong)seed);
        return randn([batch, Network.Config.GlobalCondDim], generator: generator);
    }

    public void Dispose()
    {
        Network.Dispose();
        Schedule.Dispose();
        GC.SuppressFinalize(this);
    }
}
