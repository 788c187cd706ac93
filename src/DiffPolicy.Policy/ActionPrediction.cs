using DiffPolicy.Policy.Sampling;

namespace DiffPolicy.Policy;

/// <summary>Predicted actions (batch × <see cref="PolicyConfig.PredictedSteps"/> × action_dim, robot units) and how they were sampled.</summary>
public sealed record ActionPrediction(float[] Actions, int Batch, int Steps, int ActionDim, ChunkStats Stats)
{
    public ReadOnlySpan<float> Action(int sample, int step) =>
        Actions.AsSpan((sample * Steps + step) * ActionDim, ActionDim);
}
