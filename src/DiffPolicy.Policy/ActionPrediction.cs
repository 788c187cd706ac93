using DiffPolicy.Policy.Sampling;
using static TorchSharp.torch;

namespace DiffPolicy.Policy;

/// <summary>Predicted actions (batch × <see cref="PolicyConfig.PredictedSteps"/> × action_dim, robot units) and how they were sampled.</summary>
public sealed record ActionPrediction(float[] Actions, int Batch, int Steps, int ActionDim, ChunkStats Stats)
{
    /// <summary>How far the sampler converged (one sample); null for batches of <see cref="DiffusionPolicy.PredictActions(ReadOnlySpan{float}, int, Generator?, CancellationToken, IReadOnlyList{ChunkPrior?}?)"/>.</summary>
    public ConvergenceCertificate? Certificate { get; init; }

    public ReadOnlySpan<float> Action(int sample, int step) =>
        Actions.AsSpan((sample * Steps + step) * ActionDim, ActionDim);
}
