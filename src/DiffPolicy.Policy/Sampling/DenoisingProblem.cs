using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Sampling;

/// <summary>
/// One chunk's reverse process as the samplers see it: the network evaluated on any set of
/// consecutive steps for the whole batch, the scheduler, and the noise. The network's FiLM
/// conditioning depends only on (step, observation), so it is computed once for all S·B rows and
/// sliced per call. Lives inside the chunk's dispose scope.
/// </summary>
internal sealed class DenoisingProblem
{
    readonly ConditionalUnet1D network;
    readonly FilmConditioning conditioning;   // row j·B + i: step j, sample i
    readonly int workers;

    public DiffusionScheduler Scheduler { get; }
    public SamplingNoise Noise { get; }

    /// <summary>σ_j·z_j, (S, B, T, A); null when the scheduler adds no noise.</summary>
    public Tensor? ScaledNoise { get; }

    /// <summary>j = 0 … S−1 as int64, for the scheduler's slot arguments.</summary>
    public Tensor StepIndices { get; }

    public long Batch { get; }

    public DenoisingProblem(ConditionalUnet1D network, DiffusionScheduler scheduler, Tensor globalCond, SamplingNoise noise, int workers)
    {
        this.network = network;
        this.workers = workers;
        Scheduler = scheduler;
        Noise = noise;
        Batch = globalCond.shape[0];
        var device = noise.Initial.device;
        conditioning = network.Condition(scheduler.TimestepTensor.to(device).repeat_interleave(Batch), globalCond.repeat(scheduler.Steps, 1));
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

    /// <summary>x_{j+1} from one slot (1, B, T, A) at step j: the scheduler's mean plus the step's pre-drawn noise.</summary>
    public Tensor Step(Tensor modelOutput, Tensor sample, Tensor prediction, Tensor? previousPrediction, int j)
    {
        var next = Scheduler.Mean(modelOutput, sample, prediction, previousPrediction, StepIndices[j..(j + 1)]);
        return ScaledNoise is { } noise ? next.add_(noise[j..(j + 1)]) : next;
    }

    /// <summary>Model output for latents <paramref name="x"/> at steps first … first+count−1.</summary>
    /// <param name="x">(count, B, T, A), or (B, T, A) when count = 1; returned output has the same shape.</param>
    public Tensor Evaluate(Tensor x, int first, int count)
    {
        var rows = x.reshape(count * Batch, x.shape[^2], x.shape[^1]);
        int parts = Math.Min(workers, count);
        if (parts == 1)
            return network.Denoise(rows, conditioning.Narrow(first * Batch, count * Batch)).view(x.shape);

        // Contiguous shares of the steps, one per worker. Inference mode and dispose scopes are per
        // thread: each share is detached from its thread's scope and disposed here after the cat.
        var outputs = new Tensor[parts];
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            long start = (long)count * part / parts * Batch, end = (long)count * (part + 1) / parts * Batch;
            using var mode = inference_mode();
            using var scope = NewDisposeScope();
            outputs[part] = network.Denoise(rows[(int)start..(int)end], conditioning.Narrow(first * Batch + start, end - start)).DetachFromDisposeScope();
        });
        var output = cat(outputs).view(x.shape);
        foreach (var part in outputs) part.Dispose();
        return output;
    }
}
