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
}
