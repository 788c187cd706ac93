using DiffPolicy.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Schedulers;

/// <summary>
/// A reverse-process solver over S inference steps j = 0 … S−1 at timesteps t_0 &gt; … &gt; t_{S−1}.
/// Step j maps x_j to x_{j+1} = mean_j(x_j, model output at (x_j, t_j)[, x̂0 of step j−1]) + noise_j.
/// </summary>
/// <remarks>
/// All tensor methods work on a batch of <em>slots</em>: tensors of shape (n, …) where slot i is at
/// step <c>steps[i]</c>, any set of steps in any order. The sequential sampler passes one slot,
/// ParaDiGMS a window. A step is split in two so that a multistep solver's dependence on the
/// previous step is explicit: <see cref="Predict"/> gives x̂0 of every slot, then
/// <see cref="Mean"/> takes x̂0 of each slot's previous step from the caller.
/// </remarks>
public abstract class DiffusionScheduler : IDisposable
{
    readonly List<Tensor> owned = [];
    readonly Tensor sqrtAlphaBar;
    readonly Tensor sqrtOneMinusAlphaBar;

    public NoiseSchedule Schedule { get; }
    public PredictionType Prediction { get; }

    /// <summary>t_j, descending.</summary>
    public IReadOnlyList<int> Timesteps { get; }

    public int Steps => Timesteps.Count;
    public Device Device { get; }

    /// <summary>Whether x̂0 is clipped to [−1, 1] (diffusers' <c>clip_sample</c>).</summary>
    public bool ClipSample { get; }

    /// <summary>True when <see cref="Mean"/> uses x̂0 of the previous step (DPM-Solver++ 2M).</summary>
    public virtual bool IsMultistep => false;

    /// <summary>t_j as a (S,) int64 tensor on <see cref="Device"/>.</summary>
    public Tensor TimestepTensor { get; }

    protected DiffusionScheduler(NoiseSchedule schedule, IReadOnlyList<int> timesteps, PredictionType prediction, bool clipSample, Device? device)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(timesteps);
        Schedule = schedule;
        Timesteps = timesteps;
        Prediction = prediction;
        ClipSample = clipSample;
        Device = device ?? CPU;
        TimestepTensor = Own(tensor(timesteps.Select(t => (long)t).ToArray()));
        sqrtAlphaBar = Coefficients(j => Math.Sqrt(AlphaBar(j)));
        sqrtOneMinusAlphaBar = Coefficients(j => Math.Sqrt(1 - AlphaBar(j)));
    }

    /// <summary>ᾱ at t_j.</summary>
    public double AlphaBar(int step) => Schedule.AlphasCumprod[Timesteps[step]];

    /// <summary>ᾱ at t_{j+1}, or 1 after the last step (diffusers' <c>one</c> / <c>set_alpha_to_one</c>).</summary>
    public double AlphaBarNext(int step) => step + 1 < Steps ? AlphaBar(step + 1) : 1.0;

    /// <summary>
    /// The DDPM posterior variance of step j, max((1−ᾱ_{t_{j+1}})/(1−ᾱ_{t_j})·(1 − ᾱ_{t_j}/ᾱ_{t_{j+1}}), 1e−20):
    /// the noise DDPM adds, and the scale ParaDiGMS measures errors against for every scheduler.
    /// </summary>
    public double StepVariance(int step)
    {
        double alphaBar = AlphaBar(step), alphaBarNext = AlphaBarNext(step);
        return Math.Max((1 - alphaBarNext) / (1 - alphaBar) * (1 - alphaBar / alphaBarNext), 1e-20);
    }

    /// <summary>Standard deviation of the Gaussian noise added after step j (0 for deterministic solvers).</summary>
    public virtual double NoiseStd(int step) => 0;

    /// <summary>
    /// x̂0 of every slot: (x − sqrt(1−ᾱ_t)·ε)/sqrt(ᾱ_t) for ε-prediction, the model output for
    /// sample prediction; clipped to [−1, 1] when <see cref="ClipSample"/>.
    /// </summary>
    /// <param name="modelOutput">(n, …) network output of each slot.</param>
    /// <param name="sample">(n, …) x_j of each slot.</param>
    /// <param name="steps">(n,) int64 step indices j (not timesteps), on <see cref="Device"/>.</param>
    public Tensor Predict(Tensor modelOutput, Tensor sample, Tensor steps)
    {
        CheckSlots(modelOutput, sample, steps);
        using var scope = NewDisposeScope();
        var original = Prediction == PredictionType.Epsilon
            ? (sample - Gather(sqrtOneMinusAlphaBar, steps, sample) * modelOutput) / Gather(sqrtAlphaBar, steps, sample)
            : modelOutput.alias();
        if (ClipSample) original = original.clamp_(HeldScalars.MinusOne, HeldScalars.One);
        return original.MoveToOuterDisposeScope();
    }

    /// <summary>The deterministic part of step j for every slot: x_{j+1} − noise_j.</summary>
    /// <param name="modelOutput">(n, …) network output of each slot.</param>
    /// <param name="sample">(n, …) x_j of each slot.</param>
    /// <param name="prediction">(n, …) x̂0 of each slot, from <see cref="Predict"/>.</param>
    /// <param name="previousPrediction">(n, …) x̂0 of step j−1 of each slot; only read when
    /// <see cref="IsMultistep"/> (and ignored for j = 0), may be null otherwise.</param>
    /// <param name="steps">(n,) int64 step indices.</param>
    public abstract Tensor Mean(Tensor modelOutput, Tensor sample, Tensor prediction, Tensor? previousPrediction, Tensor steps);

    /// <summary>A per-step coefficient table on <see cref="Device"/>, owned by this scheduler.</summary>
    protected Tensor Coefficients(Func<int, double> coefficient) =>
        Own(tensor(Enumerable.Range(0, Steps).Select(j => (float)coefficient(j)).ToArray()));

    /// <summary>The coefficients of the slots' steps, shaped (n, 1, …, 1) to broadcast over <paramref name="like"/>.</summary>
    protected static Tensor Gather(Tensor coefficients, Tensor steps, Tensor like)
    {
        long[] shape = [steps.shape[0], .. Enumerable.Repeat(1L, (int)like.dim() - 1)];
        return coefficients.index_select(0, steps).view(shape);
    }

    protected void CheckSlots(Tensor modelOutput, Tensor sample, Tensor steps)
    {
        ArgumentNullException.ThrowIfNull(modelOutput);
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(steps);
        if (!modelOutput.shape.SequenceEqual(sample.shape))
            throw new ArgumentException($"model output {Shapes.Format(modelOutput.shape)} and sample {Shapes.Format(sample.shape)} must have the same shape.", nameof(modelOutput));
        if (steps.dim() != 1 || steps.shape[0] != sample.shape[0] || steps.dtype != int64)
            throw new ArgumentException($"steps must be an int64 ({sample.shape[0]},) tensor of step indices, got {steps.dtype} {Shapes.Format(steps.shape)}.", nameof(steps));
    }

    Tensor Own(Tensor t)
    {
        var placed = t.to(Device).DetachFromDisposeScope();
        owned.Add(placed);
        return placed;
    }

    public void Dispose()
    {
        foreach (var t in owned) t.Dispose();
        owned.Clear();
        GC.SuppressFinalize(this);
    }
}
