namespace DiffPolicy.Policy.Training;

/// <summary>
/// Optimisation settings; defaults are DiffusionPolicy's low-dim PushT recipe (AdamW 1e-4,
/// betas (0.95, 0.999), weight decay 1e-6, cosine schedule with 500 warm-up steps, EMA power 0.75,
/// batch 256), with a step budget instead of epochs.
/// </summary>
public sealed record TrainingConfig
{
    public int BatchSize { get; init; } = 256;
    public double LearningRate { get; init; } = 1e-4;
    public double Beta1 { get; init; } = 0.95;
    public double Beta2 { get; init; } = 0.999;
    public double WeightDecay { get; init; } = 1e-6;
    public int WarmupSteps { get; init; } = 500;

    /// <summary>Optimiser steps in total (the cosine schedule reaches 0 here).</summary>
    public int Steps { get; init; } = 4_000;

    public double EmaPower { get; init; } = 0.75;
    public int Seed { get; init; } = 42;

    /// <summary>Fraction of episodes held out for the validation loss.</summary>
    public double ValRatio { get; init; } = 0.02;

    /// <summary>Steps between atomic saves of the training state and the EMA policy.</summary>
    public int SaveEvery { get; init; } = 250;

    public int ValEvery { get; init; } = 250;

    /// <summary>Steps between closed-loop rollouts of the EMA policy (0 = never).</summary>
    public int RolloutEvery { get; init; }

    public void Validate()
    {
        Check.Require(BatchSize >= 1 && Steps >= 1 && SaveEvery >= 1 && ValEvery >= 1 && RolloutEvery >= 0 && WarmupSteps >= 0,
            "training: batch_size, steps, save_every and val_every must be positive; warmup_steps and rollout_every non-negative.");
        Check.Require(double.IsFinite(LearningRate) && LearningRate > 0 && double.IsFinite(WeightDecay) && double.IsFinite(EmaPower) && Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1 && WeightDecay >= 0 && EmaPower > 0,
            "training: learning_rate and ema_power must be positive, betas in [0, 1), weight_decay non-negative.");
        Check.Require(ValRatio is >= 0 and < 1, $"training: val_ratio must lie in [0, 1), got {ValRatio}.");
    }
}
