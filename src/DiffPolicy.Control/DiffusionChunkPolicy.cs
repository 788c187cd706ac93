using DiffPolicy.Policy;
using DiffPolicy.Protocol;
using static TorchSharp.torch;

namespace DiffPolicy.Control;

/// <summary>
/// A <see cref="DiffusionPolicy"/> served as an <see cref="IChunkPolicy"/>. Each robot's sampler noise comes from a
/// generator seeded with the episode number when the robot's episode starts and advanced by each chunk, so the same
/// episodes give the same actions in this process and over ZeroMQ. Does not own the policy.
/// </summary>
public sealed class DiffusionChunkPolicy : IChunkPolicy, IDisposable
{
    readonly DiffusionPolicy policy;
    readonly Dictionary<string, (long Episode, Generator Noise)> noise = [];

    public DiffusionChunkPolicy(DiffusionPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        this.policy = policy;
        Metadata = MetadataOf(policy.Config);
    }

    public PolicyMetadata Metadata { get; }

    /// <summary>What a policy of <paramref name="config"/> tells robots: one observation key of obs_dim values.</summary>
    public static PolicyMetadata MetadataOf(PolicyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new PolicyMetadata(
            [new ObsKey(config.ObsKey, [config.ObsDim])], config.NObsSteps, config.Horizon, config.NActionSteps, config.ActionDim, config.ControlHz);
    }

    public ActionChunkResult Infer(ObservationWindow window, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(window);
        ChunkPrior? prior = window.Prior is { } p ? new ChunkPrior(p.Actions, p.Frozen, p.Weights) : null;
        var chunk = policy.PredictActions(window.Data[policy.Config.ObsKey], 1, NoiseFor(window.Robot, window.Episode), cancellationToken, prior is null ? null : [prior]);
        return new ActionChunkResult(chunk.Actions, chunk.Stats.Iterations, chunk.Stats.Evaluations);
    }

    public void Reset(string robot)
    {
        if (noise.Remove(robot, out var entry))
        {
            entry.Noise.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var robot in noise.Keys.ToList())
        {
            Reset(robot);
        }
    }

    Generator NoiseFor(string robot, long episode)
    {
        if (noise.TryGetValue(robot, out var entry) && entry.Episode == episode)
        {
            return entry.Noise;
        }
        Reset(robot);
        var generator = new Generator(unchecked((ulong)episode));
        noise[robot] = (episode, generator);
        return generator;
    }
}
