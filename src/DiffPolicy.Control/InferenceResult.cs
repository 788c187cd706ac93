using DiffPolicy.Protocol;

namespace DiffPolicy.Control;

/// <summary>What a policy returns for one window.</summary>
/// <param name="Actions">(horizon − n_obs_steps + 1) × action_dim values, row-major; row i is the action for window step + i.</param>
/// <param name="Iterations">Sampler iterations (Picard sweeps, or denoising steps for a sequential sampler).</param>
/// <param name="Evaluations">Network evaluations spent.</param>
public sealed record InferenceResult(float[] Actions, int Iterations, int Evaluations)
{
    /// <summary>How far the sampler converged, sent with the chunk; null when the policy does not say.</summary>
    public ChunkCertificate? Certificate { get; init; }
}
