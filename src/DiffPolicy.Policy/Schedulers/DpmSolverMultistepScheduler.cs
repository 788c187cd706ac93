using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Schedulers;

/// <summary>
/// diffusers' DPMSolverMultistepScheduler as DPM-Solver++ 2M: data prediction, midpoint solver,
/// "linspace" spacing, final σ = 0 with a first-order final step (lower_order_final), no thresholding.
/// With σ_j = sqrt((1−ᾱ)/ᾱ) at t_j, α = 1/sqrt(σ²+1), s = σ·α, λ = ln α − ln s, h_j = λ_{j+1} − λ_j:
/// x_{j+1} = (s_{j+1}/s_j)·x_j + D_j·[x̂0_j + (x̂0_j − x̂0_{j−1})/(2 r_j)], D_j = α_{j+1}(1 − e^{−h_j}),
/// r_j = h_{j−1}/h_j; the first and the last step are first order (no x̂0_{j−1} term).
/// </summary>
public sealed class DpmSolverMultistepScheduler : DiffusionScheduler
{
    readonly Tensor sampleCoefficient;
    readonly Tensor predictionCoefficient;
    readonly Tensor previousPredictionCoefficient;

    public DpmSolverMultistepScheduler(NoiseSchedule schedule, int steps, PredictionType prediction = PredictionType.Epsilon, Device? device = null)
        : base(schedule, TimestepSpacing.Linspace(schedule?.TrainTimesteps ?? 0, steps), prediction, clipSample: false, device)
    {
        // σ per slot boundary: σ_0 … σ_{S−1} at the timesteps, σ_S = 0.
        double[] sigma = [.. Enumerable.Range(0, Steps).Select(j => Math.Sqrt((1 - AlphaBar(j)) / AlphaBar(j))), 0.0];
        double Alpha(int i) => 1 / Math.Sqrt(sigma[i] * sigma[i] + 1);
        double Scale(int i) => sigma[i] * Alpha(i);
        double Lambda(int i) => Math.Log(Alpha(i)) - Math.Log(Scale(i));   // +∞ at σ = 0
        double H(int j) => Lambda(j + 1) - Lambda(j);
        double D(int j) => Alpha(j + 1) * (1 - Math.Exp(-H(j)));
        bool FirstOrder(int j) => j == 0 || j == Steps - 1;
        double HalfOverR(int j) => 0.5 * H(j) / H(j - 1);

        sampleCoefficient = Coefficients(j => Scale(j + 1) / Scale(j));
        predictionCoefficient = Coefficients(j => FirstOrder(j) ? D(j) : D(j) * (1 + HalfOverR(j)));
        previousPredictionCoefficient = Coefficients(j => FirstOrder(j) ? 0 : -D(j) * HalfOverR(j));
    }

    public override bool IsMultistep => true;

    public override Tensor Mean(Tensor modelOutput, Tensor sample, Tensor prediction, Tensor? previousPrediction, Tensor steps)
    {
        CheckSlots(modelOutput, sample, steps);
        if (previousPrediction is null || !previousPrediction.shape.SequenceEqual(sample.shape))
            throw new ArgumentException("DPM-Solver++ 2M needs x̂0 of each slot's previous step, shaped like the sample.", nameof(previousPrediction));
        using var scope = NewDisposeScope();
        return (Gather(sampleCoefficient, steps, sample) * sample)
                .Plus(Gather(predictionCoefficient, steps, sample) * prediction)
                .Plus(Gather(previousPredictionCoefficient, steps, sample) * previousPrediction)
            .MoveToOuterDisposeScope();
    }
}
