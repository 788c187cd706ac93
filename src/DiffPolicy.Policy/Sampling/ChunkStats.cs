namespace DiffPolicy.Policy.Sampling;

/// <summary>What one sampled chunk cost.</summary>
/// <param name="WallTime">Time from the call to the finished trajectory.</param>
/// <param name="Iterations">Sequential network calls (parallel iterations for ParaDiGMS).</param>
/// <param name="Evaluations">Steps evaluated by the network, per sample (a window of n steps counts n).</param>
/// <param name="Steps">Denoising steps S of the scheduler.</param>
/// <param name="Batch">Samples per call.</param>
public sealed record ChunkStats(TimeSpan WallTime, int Iterations, int Evaluations, int Steps, int Batch);
