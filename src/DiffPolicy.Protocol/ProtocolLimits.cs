namespace DiffPolicy.Protocol;

/// <summary>Bounds applied to every frame read.</summary>
public sealed record ProtocolLimits
{
    public static ProtocolLimits Default { get; } = new();

    /// <summary>Frames above this get a <c>too_large</c> error.</summary>
    public int MaxFrameBytes { get; init; } = 1 << 20;

    /// <summary>Maximum container nesting, the top-level map counting as 1.</summary>
    public int MaxDepth { get; init; } = 8;

    /// <summary>Maximum entries in any map or array other than a float32 bin.</summary>
    public int MaxEntries { get; init; } = 64;

    /// <summary>Maximum length of any string (keys, names, error texts) in UTF-8 bytes.</summary>
    public int MaxStringBytes { get; init; } = 1024;

    /// <summary>Observation keys whose bins are u8 camera frames (the policy's rgb keys); every other bin is float32.</summary>
    public IReadOnlySet<string> RgbKeys { get; init; } = new HashSet<string>();

    /// <summary>Room in a frame for everything but the observation arrays.</summary>
    public const int FrameOverheadBytes = 64 * 1024;

    /// <summary>
    /// These limits for a server of <paramref name="policy"/>: its rgb keys read as u8, and frames at least large enough
    /// for a stateless <c>infer</c> request's window, n_obs_steps observations of every declared key (cameras' frames + 4
    /// bytes per low-dim value), + <see cref="FrameOverheadBytes"/>.
    /// </summary>
    public ProtocolLimits For(PolicyMetadata policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        long needed = 0;
        foreach (var key in policy.ObsKeys)
        {
            needed += key.WireBytes;
        }
        needed = (needed * policy.NObsSteps) + FrameOverheadBytes;
        return this with
        {
            RgbKeys = policy.ObsKeys.Where(k => k.IsRgb).Select(k => k.Name).ToHashSet(StringComparer.Ordinal),
            MaxFrameBytes = (int)Math.Min(int.MaxValue / 4, Math.Max(MaxFrameBytes, needed)),
        };
    }
}
