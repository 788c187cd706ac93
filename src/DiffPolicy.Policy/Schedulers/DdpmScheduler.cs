using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Schedulers;

/// <summary>
/// diffusers' DDPMScheduler as DiffusionPolicy configures it (fixed_small variance, clip_sample,
/// "leading" spacing): with p the next timestep (ᾱ_p = 1 after the last),
/// μ = sqrt(ᾱ_p)·β_t/(1−ᾱ_t)·x̂0 + sqrt(1−β_t)·(1−ᾱ_p)/(1−ᾱ_t)·x, β_t = 1 − ᾱ_t/ᾱ_p, and
/// noise σ·z with σ² = <see cref="DiffusionScheduler.StepVariance"/> except at t = 0.
/// </summary>
public sealed class DdpmScheduler : DiffusionScheduler
{
    readonly Tensor predictionCoefficient;
    readonly Tensor sampleCoefficient;

    public DdpmScheduler(NoiseSchedule schedule, int steps, PredictionType prediction = PredictionType.Epsilon, bool clipSample = true, Device? device = null)
        : base(schedule, TimestepSpacing.Leading(schedule?.TrainTimesteps ?? 0, steps), prediction, clipSample, device)
    {
        predictionCoefficient = Coefficients(j =>
        {
            double alphaBar = AlphaBar(j), alphaBarNext = AlphaBarNext(j);
            return Math.Sqrt(alphaBarNext) * (1 - alphaBar / alphaBarNext) / (1 - alphaBar);
        });
        sampleCoefficient = Coefficients(j =>
        {
            double alphaBar = AlphaBar(j), alphaBarNext = AlphaBarNext(j);
            return Math.Sqrt(alphaBar / alphaBarNext) * (1 - alphaBarNext) / (1 - alphaBar);
        });
    }

    public override double NoiseStd(int step) => Timesteps[step] > 0 ? Math.Sqrt(StepVariance(step)) : 0;

    public override Tensor Mean(Tensor modelOutput, Tensor sample, Tensor prediction, Tensor? previousPrediction, Tensor steps)
    {
        CheckSlots(modelOutput, sample, steps);
        using var scope = NewDisposeScope();
        return (Gather(predictionCoefficient, steps, sample) * prediction).Plus(Gather(sampleCoefficient, steps, sample) * sample)
            .MoveToOuterDisposeScope();
    }
}
