namespace DiffPolicy.Policy;

/// <summary>
/// What a robot still has planned when it asks for a chunk (real-time chunking): its planned actions for the
/// observation's step and the steps after it, of which the first <see cref="Frozen"/> will run before the new chunk can
/// be used. The sampler inpaints them into the new trajectory (<see cref="Sampling.Inpainting"/>): the frozen ones
/// exactly, the rest of the overlap with <see cref="Weights"/>.
/// </summary>
/// <param name="Actions">count × action_dim values in robot units, row-major; row i is the plan for the observation's step + i.</param>
/// <param name="Frozen">Leading rows that will be executed as planned (the latency in steps), 0 … count.</param>
/// <param name="Weights">count weights in [0, 1]; null: <see cref="DefaultWeights"/>.</param>
public sealed record ChunkPrior(float[] Actions, int Frozen, float[]? Weights = null)
{
    /// <summary>
    /// 1 for the frozen rows, then the soft mask of real-time chunking (Black, Galliker and Levine, 2025) decaying
    /// over the rest of the overlap: w_i = c_i·(e^{c_i} − 1)/(e − 1) with c_i = (count − i)/(count − frozen + 1).
    /// </summary>
    public static float[] DefaultWeights(int count, int frozen)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(frozen);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(frozen, count);
        var weights = new float[count];
        for (var i = 0; i < count; i++)
        {
            var c = (double)(count - i) / (count - frozen + 1);
            weights[i] = i < frozen ? 1 : (float)(c * double.ExpM1(c) / double.ExpM1(1));
        }
        return weights;
    }

    /// <summary>The prior's rows, checked against a policy's chunk: throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public int Rows(int actionDim, int predictedSteps)
    {
        if (Actions is null || Actions.Length == 0 || Actions.Length % actionDim != 0)
            throw new ArgumentException($"prior: {Actions?.Length ?? 0} values are not a positive multiple of action_dim {actionDim}");
        var count = Actions.Length / actionDim;
        if (count > predictedSteps) throw new ArgumentException($"prior: {count} actions, more than the {predictedSteps} a chunk carries");
        if (Frozen < 0 || Frozen > count) throw new ArgumentException($"prior_frozen: {Frozen} is not within 0 … {count}");
        if (Array.Exists(Actions, v => !float.IsFinite(v))) throw new ArgumentException("prior: values must be finite");
        if (Weights is not null && (Weights.Length != count || Array.Exists(Weights, w => !(w >= 0 && w <= 1))))
            throw new ArgumentException($"prior_weights: need {count} values in [0, 1]");
        return count;
    }
}
