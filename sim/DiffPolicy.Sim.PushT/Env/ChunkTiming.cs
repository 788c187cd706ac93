namespace DiffPolicy.Sim.PushT.Env;

/// <summary>What one action chunk cost.</summary>
/// <param name="LatencyMs">From asking to having the chunk (the robot's round trip; in process, the inference call).</param>
/// <param name="InferMs">Inference alone, as the policy server measured it.</param>
/// <param name="Iterations">Sampler iterations.</param>
/// <param name="Evaluations">Network evaluations.</param>
/// <param name="SlackMs">
/// Real time only: how long the robot could still have run on its planned actions when the chunk arrived; negative
/// when it had already run dry. Null in lockstep and for an episode's first chunk.
/// </param>
/// <param name="ConvergedSteps">The chunk's certificate: denoising steps converged (docs/protocol.md §4a); null when the server did not say.</param>
/// <param name="DenoisingSteps">The certificate's S: the chunk converged when <paramref name="ConvergedSteps"/> equals it.</param>
public sealed record ChunkTiming(double LatencyMs, double InferMs, int Iterations, int Evaluations, double? SlackMs = null,
    int? ConvergedSteps = null, int? DenoisingSteps = null)
{
    /// <summary>The server stopped the chunk at its deadline before every step converged (an anytime answer).</summary>
    public bool CutShort => ConvergedSteps < DenoisingSteps;
}
