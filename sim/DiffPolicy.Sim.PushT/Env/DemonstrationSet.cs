using DiffPolicy.Data;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// Episodes as DiffusionPolicy's PushT replay buffer lays them out, saved as .npz: <c>state</c> (N, 5) float32 —
/// agent x, y, block x, y, block angle unwrapped (the original's <c>info['block_pose']</c>); <c>keypoint</c>
/// (N, 9, 2) float32 — our keypoints, the eight T corners then the agent; <c>action</c> (N, 2) float32;
/// <c>episode_ends</c> int64, cumulative; <c>img</c> (N, 96, 96, 3) uint8 when images were rendered.
/// </summary>
public sealed class DemonstrationSet
{
    readonly List<float> state = [];
    readonly List<float> keypoint = [];
    readonly List<float> action = [];
    readonly List<long> episodeEnds = [];
    readonly List<byte[]> images = [];

    public int Episodes => episodeEnds.Count;
    public int Steps => action.Count / 2;

    /// <summary>Adds an episode; <paramref name="frames"/> (one 96×96×3 image per step) is required for all or none.</summary>
    public void Add(Episode episode, IReadOnlyList<byte[]>? frames = null)
    {
        ArgumentNullException.ThrowIfNull(episode);
        if (frames is not null && frames.Count != episode.Steps.Count)
        {
            throw new ArgumentException($"{frames.Count} frames for {episode.Steps.Count} steps", nameof(frames));
        }
        if (Episodes > 0 && (frames is null) != (images.Count == 0))
        {
            throw new InvalidOperationException("either every episode has images or none has");
        }
        foreach (var step in episode.Steps)
        {
            state.AddRange(step.State.ToArray().Select(v => (float)v));
            keypoint.AddRange(step.Keypoints.Select(v => (float)v));
            action.Add((float)step.Action.X);
            action.Add((float)step.Action.Y);
        }
        if (frames is not null)
        {
            images.AddRange(frames);
        }
        episodeEnds.Add(Steps);
    }

    public void Save(string path)
    {
        var n = Steps;
        var arrays = new Dictionary<string, NpyArray>
        {
            ["state"] = new(state.ToArray(), n, 5),
            ["keypoint"] = new(keypoint.ToArray(), n, 9, 2),
            ["action"] = new(action.ToArray(), n, 2),
            ["episode_ends"] = new(episodeEnds.ToArray(), episodeEnds.Count),
        };
        if (images.Count > 0)
        {
            arrays["img"] = new(images.SelectMany(i => i).ToArray(), n, 96, 96, 3);
        }
        Npz.Save(path, arrays);
    }
}
