using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Sampling;

/// <summary>
/// One chunk's reverse process as the samplers see it: the network evaluated on any set of
/// consecutive steps for the whole batch, the scheduler, and the noise. Lives inside the chunk's
/// dispose scope.
/// </summary>
internal sealed class DenoisingProblem
{
    readonly ConditionalUnet1D network;
    readonly Tensor tiledCondition;   // (maxSlots·B, G): row k·B + i holds global_cond[i]
    readonly Tensor tiledTimesteps;   // (S·B,): row j·B + i holds t_j

    public DiffusionScheduler Scheduler { get; }
    public SamplingNoise Noise { get; }

    /// <summary>σ_j·z_j, (S, B, T, A); null when the scheduler adds no noise.</summary>
    public Tensor? ScaledNoise { get; }

    /// <summary>j = 0 … S−1 as int64, for the scheduler's slot arguments.</summary>
    public Tensor StepIndices { get; }

    public long Batch { get; }

    public DenoisingProblem(ConditionalUnet1D network, DiffusionScheduler scheduler, Tensor globalCond, SamplingNoise noise, int maxSlots)
    {
        this.network = network;
        Scheduler = scheduler;
        Noise = noise;
        Batch = globalCond.shape[0];
        var device = noise.Initial.device;
        tiledCondition = globalCond.repeat(maxSlots, 1);
        tiledTimesteps = scheduler.TimestepTensor.to(device).repeat_interleave(Batch);
        StepIndices = arange(scheduler.Steps, int64, scheduler.Device);
        bool stochastic = Enumerable.Range(0, scheduler.Steps).Any(j => scheduler.NoiseStd(j) > 0);
        if (stochastic)
        {
            if (noise.Steps is null || noise.Steps.shape[0] != scheduler.Steps)
                throw new ArgumentException($"{scheduler.GetType().Name} adds noise at every step: the sampling noise needs {scheduler.Steps} step draws.", nameof(noise));
            var std = tensor(Enumerable.Range(0, scheduler.Steps).Select(j => (float)scheduler.NoiseStd(j)).ToArray(), device: device);
            ScaledNoise = noise.Steps * std.view(-1, 1, 1, 1);
        }
    }

    /// <summary>Model output for latents <paramref name="x"/> at steps first … first+count−1.</summary>
    /// <param name="x">(count, B, T, A), or (B, T, A) when count = 1; returned output has the same shape.</param>
    public Tensor Evaluate(Tensor x, int first, int count)
    {
        long rows = count * Batch;
        var output = network.call(
            x.reshape(rows, x.shape[^2], x.shape[^1]),
            tiledTimesteps[(int)(first * Batch)..(int)((first + count) * Batch)],
            tiledCondition[..(int)rows]);
        return output.view(x.shape);
    }
}
