using DiffPolicy.Policy;
using DiffPolicy.Sim.PushT.Physics;
using DiffPolicy.Sim.PushT.Rendering;
using DiffPolicy.Sim.PushT.Task;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>One evaluated episode.</summary>
public sealed record EpisodeResult(long Seed, double Score, bool Success, int Steps, int Chunks, double InferenceSeconds, double MeanIterations);

/// <summary>
/// Closed-loop PushT evaluation as DiffusionPolicy runs it: reset by seed, n_action_steps actions
/// per chunk, at most max_steps control steps, stop at success; an episode scores its maximum reward.
/// </summary>
public static class PushTEvaluation
{
    /// <summary>Runs one episode with <paramref name="policy"/>; the sampler's noise is seeded by the episode seed.</summary>
    public static EpisodeResult RunEpisode(DiffusionPolicy policy, long seed, int maxSteps, List<double> chunkLatencies, EpisodeVideo? video = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(chunkLatencies);
        var generator = new Generator(unchecked((ulong)seed));
        double inference = 0, iterations = 0;
        var controller = new ChunkedController(policy.Config.NObsSteps, window =>
        {
            var chunk = policy.PredictActions(window, 1, generator);
            double seconds = chunk.Stats.WallTime.TotalSeconds;
            inference += seconds;
            iterations += chunk.Stats.Iterations;
            chunkLatencies.Add(seconds * 1000);
            var actions = new Vec2[chunk.Steps];
            for (int k = 0; k < chunk.Steps; k++)
            {
                var a = chunk.Action(0, k);
                actions[k] = new Vec2(a[0], a[1]);
            }
            return actions;
        });
        var episode = Episode.Run(seed, controller.Act, maxSteps, video is null ? null : video.Add);
        return new EpisodeResult(seed, episode.MaxReward, episode.Success, episode.Steps.Count, controller.Chunks,
            inference, controller.Chunks == 0 ? 0 : iterations / controller.Chunks);
    }
}
