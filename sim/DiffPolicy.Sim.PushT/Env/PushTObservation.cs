namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// What a PushT policy observes, by key: float32 values of the low-dim keys and camera frames (height × width × 3 bytes,
/// RGB, row-major) of the rgb keys. One step's, or a window's (<see cref="Stack"/>).
/// </summary>
public sealed record PushTObservation(IReadOnlyDictionary<string, float[]> Values, IReadOnlyDictionary<string, byte[]> Frames)
{
    /// <summary>A window: per key, the steps' values (or frames) one after the other, in the order given (oldest first).</summary>
    public static PushTObservation Stack(IReadOnlyList<PushTObservation> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count == 0) throw new ArgumentException("a window has at least one observation", nameof(steps));
        var first = steps[0];
        return new PushTObservation(
            first.Values.Keys.ToDictionary(k => k, k => steps.SelectMany(s => s.Values[k]).ToArray()),
            first.Frames.Keys.ToDictionary(k => k, k => steps.SelectMany(s => s.Frames[k]).ToArray()));
    }
}

/// <summary>
/// Which PushT observation a policy reads, under which keys: the 18 keypoint values (the T's 8 vertices then the agent,
/// docs/protocol.md §3a), or what diffusion_policy's PushTImageEnv observes — the scene rendered as a size × size RGB
/// image (<see cref="Rendering.SceneRenderer.Observation"/>) and the agent's position (x, y).
/// </summary>
public sealed class PushTObserver
{
    /// <summary>The keypoint observation: the T's 8 vertices (x, y) and the agent's position.</summary>
    public const int KeypointValues = 18;

    /// <summary>The image observation's low-dim part: the agent's position.</summary>
    public const int AgentPosValues = 2;

    /// <summary>PushTImageEnv's render_size.</summary>
    public const int DefaultImageSize = 96;

    PushTObserver(string? keypointKey, string? imageKey, string? agentPosKey, int imageSize)
    {
        KeypointKey = keypointKey;
        ImageKey = imageKey;
        AgentPosKey = agentPosKey;
        ImageSize = imageSize;
    }

    public static PushTObserver Keypoints(string key) => new(key, null, null, 0);

    /// <param name="size">Side of the square image, 16–512 (PushTImageEnv: 96).</param>
    public static PushTObserver Image(string imageKey, string agentPosKey, int size = DefaultImageSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, 512);
        return new(null, imageKey, agentPosKey, size);
    }

    /// <summary>The key of the 18 keypoint values, or null for an image observer.</summary>
    public string? KeypointKey { get; }

    /// <summary>The key of the camera image, or null for a keypoint observer.</summary>
    public string? ImageKey { get; }

    /// <summary>The key of the agent position that goes with the image, or null.</summary>
    public string? AgentPosKey { get; }

    /// <summary>Side of the image in pixels (0 without one).</summary>
    public int ImageSize { get; }

    public PushTObservation Observe(PushTEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (KeypointKey is { } key)
            return new PushTObservation(new Dictionary<string, float[]> { [key] = Array.ConvertAll(env.Keypoints(), v => (float)v) }, new Dictionary<string, byte[]>());
        var agent = env.State.Agent;
        return new PushTObservation(
            new Dictionary<string, float[]> { [AgentPosKey!] = [(float)agent.X, (float)agent.Y] },
            new Dictionary<string, byte[]> { [ImageKey!] = Rendering.SceneRenderer.Observation(env, ImageSize) });
    }
}
