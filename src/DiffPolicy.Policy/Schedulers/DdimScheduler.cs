using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Schedulers;

/// <summary>
/// diffusers' DDIMScheduler with η = 0 ("leading" spacing, set_alpha_to_one, clip_sample):
/// x' = sqrt(ᾱ_p)·x̂0 + sqrt(1−ᾱ_p)·ε̂ with ε̂ the unclipped noise estimate (use_clipped_model_output off).
/// </summary>
public sealed class DdimScheduler : DiffusionScheduler
{
    readonly Tensor sqrtAlphaBarNext;
    readonly Tensor sqrtOneMinusAlphaBarNext;
    readonly Tensor sqrtAlphaBar;
    readonly Tensor inverseSqrtOneMinusAlphaBar;

    /// <param name="setAlphaToOne">ᾱ after the last step is 1 (true, DiffusionPolicy) or ᾱ_0.</param>
    public DdimScheduler(NoiseSchedule schedule, int steps, PredictionType prediction = PredictionType.Epsilon, bool clipSample = true, bool setAlphaToOne = true, Device? device = null)
        : base(schedule, TimestepSpacing.Leading(schedule?.TrainTimesteps ?? 0, steps), prediction, clipSample, device)
    {
        var final = setAlphaToOne ? 1.0 : schedule!.AlphasCumprod[0];
        double Next(int j) => j + 1 < Steps ? AlphaBar(j + 1) : final;
        sqrtAlphaBarNext = Coefficients(j => Math.Sqrt(Next(j)));
        sqrtOneMinusAlphaBarNext = Coefficients(j => Math.Sqrt(1 - Next(j)));
        sqrtAlphaBar = Coefficients(j => Math.Sqrt(AlphaBar(j)));
        inverseSqrtOneMinusAlphaBar = Coefficients(j => 1 / Math.Sqrt(1 - AlphaBar(j)));
    }

    public override Tensor Mean(Tensor modelOutput, Tensor sample, Tensor prediction, Tensor? previousPrediction, Tensor steps)
    {
        CheckSlots(modelOutput, sample, steps);
        using var scope = NewDisposeScope();
        // ε̂ from the unclipped x̂0 (the model output itself) when the network predicts the sample.
        var epsilon = Prediction == PredictionType.Epsilon
            ? modelOutput
            : (sample - Gather(sqrtAlphaBar, steps, sample) * modelOutput) * Gather(inverseSqrtOneMinusAlphaBar, steps, sample);
        return (Gather(sqrtAlphaBarNext, steps, sample) * prediction).Plus(Gather(sqrtOneMinusAlphaBarNext, steps, sample) * epsilon)
            .MoveToOuterDisposeScope();
    }
}
