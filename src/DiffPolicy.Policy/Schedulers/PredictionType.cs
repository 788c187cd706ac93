namespace DiffPolicy.Policy.Schedulers;

/// <summary>What the network predicts (diffusers' <c>prediction_type</c>).</summary>
public enum PredictionType
{
    /// <summary>The noise ε ("epsilon", DiffusionPolicy's default).</summary>
    Epsilon,

    /// <summary>The clean sample x̂0 ("sample").</summary>
    Sample,
}
