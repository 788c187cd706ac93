using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// The noise-prediction network as a sampler calls it: the per-row conditioning, computed once per
/// chunk for every (step, observation) row, then any number of evaluations on slices of those rows.
/// Implemented by <see cref="ConditionalUnet1D"/> (TorchSharp: training, CUDA) and by
/// <see cref="Fast.FastUnet1D"/> (fused CPU forward).
/// </summary>
/// <remarks>Implementations allow concurrent <see cref="Denoise"/> calls from several threads (ParaDiGMS workers).</remarks>
public interface INoisePredictor
{
    ConditionalUnet1DConfig Config { get; }

    /// <summary>The conditioning of rows (timestep[i], globalCond[i]).</summary>
    /// <param name="timestep">(R,) diffusion steps.</param>
    /// <param name="globalCond">(R, global_cond_dim).</param>
    INoiseConditioning Condition(Tensor timestep, Tensor globalCond);

    /// <summary>The network's output for <paramref name="sample"/> given its rows' conditioning.</summary>
    /// <param name="sample">(B, T, input_dim), T a multiple of 2^(levels−1).</param>
    /// <param name="conditioning">B rows from <see cref="Condition"/> of this predictor.</param>
    /// <returns>(B, T, input_dim), a new tensor.</returns>
    Tensor Denoise(Tensor sample, INoiseConditioning conditioning);

    /// <summary>
    /// The rows of <paramref name="parts"/> (made by this predictor) one after another, for one call over windows of
    /// several samples (batched ParaDiGMS). Dispose the result; it owns a copy, or is a view when one part is given.
    /// </summary>
    INoiseConditioning Concat(IReadOnlyList<INoiseConditioning> parts);
}

/// <summary>
/// Conditioning of a set of rows, as made by one <see cref="INoisePredictor"/>. Disposing the one
/// <see cref="INoisePredictor.Condition"/> returned frees its storage; narrowed views own nothing.
/// </summary>
public interface INoiseConditioning : IDisposable
{
    long Rows { get; }

    /// <summary>Rows start … start+length−1, sharing storage.</summary>
    INoiseConditioning Narrow(long start, long length);
}
