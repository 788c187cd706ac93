using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>One evaluated episode.</summary>
/// <param name="HeldTicks">Steps the robot held position before its first chunk was usable (latency and real time).</param>
/// <param name="DeadlineMisses">Steps it held after that: no chunk planned them.</param>
/// <param name="ChunksCutShort">Chunks the server stopped at their deadline before every denoising step converged.</param>
/// <param name="Refused">Requests the server refused as overloaded (not one iteration fitted before the deadline).</param>
public sealed record EpisodeResult(
    long Seed, double Score, bool Success, int Steps, int Chunks, double InferenceSeconds, double MeanIterations, int HeldTicks = 0, int DeadlineMisses = 0,
    int ChunksCutShort = 0, int Refused = 0);

/// <summary>An episode's result and the raw values the report pools over episodes.</summary>
/// <param name="LatenciesMs">Each chunk's latency.</param>
/// <param name="SeamJerks">Second differences of the executed actions across chunk boundaries (<see cref="ExecutedActions.Jerks"/>).</param>
/// <param name="IntraJerks">Those inside one chunk.</param>
/// <param name="ConvergedSteps">Each chunk's certificate: denoising steps converged, of <paramref name="DenoisingSteps"/>; null when the policy did not say.</param>
public sealed record EpisodeRecord(EpisodeResult Result, double[] LatenciesMs, double[] SeamJerks, double[] IntraJerks, int[]? ConvergedSteps = null, int? DenoisingSteps = null);

/// <summary>
/// Closed-loop PushT evaluation as DiffusionPolicy runs it: reset by seed, n_action_steps actions
/// per chunk, at most max_steps control steps, stop at success; an episode scores its maximum reward.
/// </summary>
public static class PushTEvaluation
{
    /// <summary>Runs one episode through <paramref name="runner"/>; the sampler's noise is seeded by the episode seed.</summary>
    public static EpisodeRecord Run(IEpisodeRunner runner, long seed, int maxSteps, Action<PushTEnv, Vec2?>? observe = null)
    {
        ArgumentNullException.ThrowIfNull(runner);
        var run = runner.Run(seed, maxSteps, observe);
        var chunks = run.Chunks;
        var (seam, intra) = ExecutedActions.Jerks(run.Episode.Steps.Select(s => s.Action).ToList(), run.Sources);
        var result = new EpisodeResult(seed, run.Episode.MaxReward, run.Episode.Success, run.Episode.Steps.Count, chunks.Count,
            chunks.Sum(c => c.InferMs) / 1000, chunks.Count == 0 ? 0 : chunks.Average(c => (double)c.Iterations), run.StartupTicks, run.DeadlineMisses,
            chunks.Count(c => c.CutShort), run.Refused);
        var certified = chunks.Count > 0 && chunks.All(c => c.ConvergedSteps is not null);
        return new EpisodeRecord(result, chunks.Select(c => c.LatencyMs).ToArray(), [.. seam], [.. intra],
            certified ? chunks.Select(c => c.ConvergedSteps!.Value).ToArray() : null, certified ? chunks.Max(c => c.DenoisingSteps) : null);
    }
}
