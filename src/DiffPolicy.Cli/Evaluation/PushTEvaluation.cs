using DiffPolicy.Sim.PushT.Physics;
using DiffPolicy.Sim.PushT.Task;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>One evaluated episode.</summary>
public sealed record EpisodeResult(long Seed, double Score, bool Success, int Steps, int Chunks, double InferenceSeconds, double MeanIterations);

/// <summary>
/// Closed-loop PushT evaluation as DiffusionPolicy runs it: reset by seed, n_action_steps actions
/// per chunk, at most max_steps control steps, stop at success; an episode scores its maximum reward.
/// </summary>
public static class PushTEvaluation
{
    /// <summary>Runs one episode through <paramref name="runner"/>; the sampler's noise is seeded by the episode seed.</summary>
    public static EpisodeResult RunEpisode(IEpisodeRunner runner, long seed, int maxSteps, List<double> chunkLatencies, Action<PushTEnv, Vec2?>? observe = null)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(chunkLatencies);
        var (episode, chunks) = runner.Run(seed, maxSteps, observe);
        chunkLatencies.AddRange(chunks.Select(c => c.LatencyMs));
        return new EpisodeResult(seed, episode.MaxReward, episode.Success, episode.Steps.Count, chunks.Count,
            chunks.Sum(c => c.InferMs) / 1000, chunks.Count == 0 ? 0 : chunks.Average(c => (double)c.Iterations));
    }
}
