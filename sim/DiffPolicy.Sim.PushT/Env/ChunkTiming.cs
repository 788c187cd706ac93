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
public sealed record ChunkTiming(double LatencyMs, double InferMs, int Iterations, int Evaluations, double? SlackMs = null);
