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
internal sealed class DenoisingProblem : IDisposable
{
    readonly INoisePredictor network;
    readonly INoiseConditioning conditioning;   // row j·B + i: step j, sample i
    readonly int workers;

    public DiffusionScheduler Scheduler { get; }
    public SamplingNoise Noise { get; }

    /// <summary>σ_j·z_j, (S, B, T, A); null when the scheduler adds no noise.</summary>
    public Tensor? ScaledNoise { get; }

    /// <summary>j = 0 … S−1 as int64, for the scheduler's slot arguments.</summary>
    public Tensor StepIndices { get; }

    public long Batch { get; }

    readonly Tensor? keep;            // 1 − w, (1, B, T, 1)
    readonly Tensor? weightedKnown;   // w·(√ᾱ_j·a + √(1 − ᾱ_j)·x_T), (S + 1, B, T, A)

    public DenoisingProblem(INoisePredictor network, DiffusionScheduler scheduler, Tensor globalCond, SamplingNoise noise, int workers, Inpainting? inpainting = null)
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
        if (inpainting is not null)
        {
            if (!inpainting.Known.shape.SequenceEqual(noise.Initial.shape))
                throw new ArgumentException($"Known actions must be ({string.Join(", ", noise.Initial.shape)}), got ({string.Join(", ", inpainting.Known.shape)}).", nameof(inpainting));
            var alphaBar = Enumerable.Range(0, scheduler.Steps + 1).Select(j => j < scheduler.Steps ? scheduler.AlphaBar(j) : 1.0).ToArray();
            var signal = tensor(alphaBar.Select(a => (float)Math.Sqrt(a)).ToArray(), device: device).view(-1, 1, 1, 1);
            var noiseScale = tensor(alphaBar.Select(a => (float)Math.Sqrt(1 - a)).ToArray(), device: device).view(-1, 1, 1, 1);
            var weights = inpainting.Weights.to(device).unsqueeze(-1).unsqueeze(0);
            weightedKnown = (signal * inpainting.Known.to(device).unsqueeze(0) + noiseScale * noise.Initial.unsqueeze(0)) * weights;
            keep = 1 - weights;
        }
    }

    public void Dispose() => conditioning.Dispose();

    /// <summary>
    /// Blends latents towards the known actions (<see cref="Inpainting"/>) in place; nothing without inpainting.
    /// </summary>
    /// <param name="x">(count, B, T, A) latents at levels first … first+count−1 (x_j is level j, x_S the final trajectory), or (B, T, A) for one.</param>
    public void Constrain(Tensor x, int first)
    {
        if (weightedKnown is null) return;
        int count = x.dim() == 4 ? (int)x.shape[0] : 1;
        x.mul_(x.dim() == 4 ? keep! : keep![0]).add_(weightedKnown[first..(first + count)].view(x.shape));
    }

    /// <summary>x_{j+1} from one slot (1, B, T, A) at step j: the scheduler's mean plus the step's pre-drawn noise, constrained (<see cref="Constrain"/>).</summary>
    public Tensor Step(Tensor modelOutput, Tensor sample, Tensor prediction, Tensor? previousPrediction, int j)
    {
        var next = Scheduler.Mean(modelOutput, sample, prediction, previousPrediction, StepIndices[j..(j + 1)]);
        if (ScaledNoise is { } noise) next.add_(noise[j..(j + 1)]);
        Constrain(next, j + 1);
        return next;
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
