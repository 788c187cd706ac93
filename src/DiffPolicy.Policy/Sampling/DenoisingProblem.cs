using DiffPolicy.Data;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Sampling;

/// <summary>
/// One batch's reverse process as the samplers see it: the scheduler, the noise, and the network's FiLM conditioning
/// of every (step, sample) row. The conditioning depends only on (step, observation), so it is computed once for all
/// S·B rows and sliced per call. Owns its tensors (taken out of the caller's dispose scope): dispose it.
/// </summary>
internal sealed class DenoisingProblem : IDisposable
{
    readonly INoiseConditioning conditioning;   // row j·B + i: step j, sample i

    public DiffusionScheduler Scheduler { get; }
    public SamplingNoise Noise { get; }

    /// <summary>σ_j·z_j, (S, B, T, A); null when the scheduler adds no noise.</summary>
    public Tensor? ScaledNoise { get; }

    /// <summary>j = 0 … S−1 as int64, for the scheduler's slot arguments. Only ever sliced: arithmetic on an integer
    /// tensor with a float scalar is refused by libtorch ("alpha must not be a floating point number").</summary>
    public Tensor StepIndices { get; }

    public long Batch { get; }

    readonly Tensor? keep;            // 1 − w, (1, B, T, 1)
    readonly Tensor? weightedKnown;   // w·(√ᾱ_j·a + √(1 − ᾱ_j)·x_T), (S + 1, B, T, A)

    public DenoisingProblem(INoisePredictor network, DiffusionScheduler scheduler, Tensor globalCond, SamplingNoise noise, Inpainting? inpainting = null)
    {
        Scheduler = scheduler;
        Noise = noise;
        Batch = globalCond.shape[0];
        var device = noise.Initial.device;
        using var scope = NewDisposeScope();
        conditioning = network.Condition(scheduler.TimestepTensor.to(device).repeat_interleave(Batch), globalCond.repeat(scheduler.Steps, 1));
        // TorchSharp's conditioning lives in the dispose scope it was made in; this problem outlives it.
        (conditioning as FilmConditioning)?.Detach();
        StepIndices = arange(scheduler.Steps, int64, scheduler.Device).DetachFromDisposeScope();
        var stochastic = Enumerable.Range(0, scheduler.Steps).Any(j => scheduler.NoiseStd(j) > 0);
        if (stochastic)
        {
            if (noise.Steps is null || noise.Steps.shape[0] != scheduler.Steps)
                throw new ArgumentException($"{scheduler.GetType().Name} adds noise at every step: the sampling noise needs {scheduler.Steps} step draws.", nameof(noise));
            var std = tensor(Enumerable.Range(0, scheduler.Steps).Select(j => (float)scheduler.NoiseStd(j)).ToArray(), device: device);
            ScaledNoise = (noise.Steps * std.view(-1, 1, 1, 1)).DetachFromDisposeScope();
        }
        if (inpainting is not null)
        {
            if (!inpainting.Known.shape.SequenceEqual(noise.Initial.shape))
                throw new ArgumentException($"Known actions must be {Shapes.Format(noise.Initial.shape)}, got {Shapes.Format(inpainting.Known.shape)}.", nameof(inpainting));
            var alphaBar = Enumerable.Range(0, scheduler.Steps + 1).Select(j => j < scheduler.Steps ? scheduler.AlphaBar(j) : 1.0).ToArray();
            var signal = tensor(alphaBar.Select(a => (float)Math.Sqrt(a)).ToArray(), device: device).view(-1, 1, 1, 1);
            var noiseScale = tensor(alphaBar.Select(a => (float)Math.Sqrt(1 - a)).ToArray(), device: device).view(-1, 1, 1, 1);
            var weights = inpainting.Weights.to(device).unsqueeze(-1).unsqueeze(0);
            weightedKnown = ((signal * inpainting.Known.to(device).unsqueeze(0)).Plus(noiseScale * noise.Initial.unsqueeze(0)) * weights).DetachFromDisposeScope();
            keep = weights.neg().add_(HeldScalars.One, HeldScalars.One).DetachFromDisposeScope();   // 1 − w (HeldScalars)
        }
    }

    /// <summary>
    /// Blends latents towards the known actions (<see cref="Inpainting"/>) in place; nothing without inpainting.
    /// </summary>
    /// <param name="x">(count, B, T, A) latents at levels first … first+count−1 (x_j is level j, x_S the final trajectory), or (B, T, A) for one.</param>
    public void Constrain(Tensor x, int first)
    {
        if (weightedKnown is null) return;
        var count = x.dim() == 4 ? (int)x.shape[0] : 1;
        x.mul_(x.dim() == 4 ? keep! : keep![0]).PlusInPlace(weightedKnown[first..(first + count)].view(x.shape));
    }

    /// <summary>
    /// One Picard sweep's new latents x_{first+1 … first+count} from the exact x_first and the sweep's unconstrained
    /// step results g(x_j) = mean_j + σ_j·z_j on the previous guesses x_j.
    /// </summary>
    /// <remarks>
    /// A step with inpainting is x_{j+1} = (1 − w)·g(x_j) + w·c_{j+1} (<see cref="Constrain"/>). Its linear part is
    /// carried exactly, x_{j+1} = (1 − w)·x_j + h_j with h_j = (1 − w)·(g(x_j) − x_j) + w·c_{j+1}, so only the drift
    /// g − x rests on the guesses: a fully known position is exact in every sweep, and an error in a guess moves the
    /// rest by the drift's small sensitivity to it, as without inpainting. (Summing the drifts of the constrained steps
    /// instead carries every guess's error at a known position into all later slots: a step that resets a position
    /// is far from the identity, which Picard iteration relies on.) The fixed point is the sequential recursion.
    /// </remarks>
    /// <param name="start">x_first, (B, T, A).</param>
    /// <param name="stepped">g(x_j) for j = first … first+count−1, (count, B, T, A).</param>
    /// <param name="latents">The guesses x_j the sweep evaluated, (count, B, T, A).</param>
    /// <returns>(count, B, T, A).</returns>
    public Tensor Accumulate(Tensor start, Tensor stepped, Tensor latents, int first)
    {
        if (weightedKnown is null) return start.unsqueeze(0).Plus((stepped - latents).cumsum(0));
        var count = (int)stepped.shape[0];
        var carry = keep![0];
        var updated = (stepped - latents).mul_(keep).PlusInPlace(weightedKnown[(first + 1)..(first + count + 1)]);
        updated[0].PlusInPlace(carry * start);
        for (var k = 1; k < count; k++)
            updated[k].PlusInPlace(carry * updated[k - 1]);
        return updated;
    }

    /// <summary>The conditioning rows of steps first … first+count−1, all samples (views).</summary>
    public INoiseConditioning Rows(int first, int count) => conditioning.Narrow(first * Batch, count * Batch);

    /// <summary>x_{j+1} from one slot (1, B, T, A) at step j: the scheduler's mean plus the step's pre-drawn noise, constrained (<see cref="Constrain"/>).</summary>
    public Tensor Step(Tensor modelOutput, Tensor sample, Tensor prediction, Tensor? previousPrediction, int j)
    {
        var next = Scheduler.Mean(modelOutput, sample, prediction, previousPrediction, StepIndices[j..(j + 1)]);
        if (ScaledNoise is { } noise) next.PlusInPlace(noise[j..(j + 1)]);
        Constrain(next, j + 1);
        return next;
    }

    public void Dispose()
    {
        if (conditioning is FilmConditioning film) film.DisposeTensors();
        else conditioning.Dispose();
        StepIndices.Dispose();
        ScaledNoise?.Dispose();
        keep?.Dispose();
        weightedKnown?.Dispose();
    }
}

/// <summary>
/// The network call of every sampler: rows of latents with their conditioning rows, split into contiguous shares
/// evaluated concurrently by <c>workers</c> threads. The one place a faster network backend plugs in.
/// </summary>
internal sealed class NoiseNetwork(INoisePredictor network, int workers)
{
    public INoisePredictor Network { get; } = network;

    /// <summary>Receives each call's rows, its slowest worker's time (network) and the rest of the call (handoff).</summary>
    public SamplerProfile? Profile { get; init; }

    /// <summary>Model output for <paramref name="rows"/>.</summary>
    /// <param name="rows">(R, T, A) latents.</param>
    /// <param name="conditioning">R rows, row r conditioning latent r.</param>
    /// <returns>(R, T, A).</returns>
    public Tensor Evaluate(Tensor rows, INoiseConditioning conditioning)
    {
        var count = rows.shape[0];
        var parts = (int)Math.Min(workers, count);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (parts == 1)
        {
            var alone = Network.Denoise(rows, conditioning);
            var elapsed = System.Diagnostics.Stopwatch.GetTimestamp() - started;
            Profile?.Call(count, elapsed, elapsed);
            return alone;
        }

        // Inference mode and dispose scopes are per thread: each share is detached from its thread's scope and
        // disposed here after the cat.
        var outputs = new Tensor[parts];
        var computing = new long[parts];
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            long start = count * part / parts, end = count * (part + 1) / parts;
            using var mode = inference_mode();
            using var scope = NewDisposeScope();
            using var share = conditioning.Narrow(start, end - start);
            var began = System.Diagnostics.Stopwatch.GetTimestamp();
            outputs[part] = Network.Denoise(rows[(int)start..(int)end], share).DetachFromDisposeScope();
            computing[part] = System.Diagnostics.Stopwatch.GetTimestamp() - began;
        });
        var output = cat(outputs);
        foreach (var part in outputs) part.Dispose();
        Profile?.Call(count, computing.Max(), System.Diagnostics.Stopwatch.GetTimestamp() - started);
        return output;
    }
}
