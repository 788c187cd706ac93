using DiffPolicy.Policy.Network.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>Which implementation runs the noise-prediction network at inference.</summary>
public enum NetworkBackend
{
    /// <summary>The fastest measured for the device: <see cref="Fast"/> on a CPU, <see cref="Torch"/> on CUDA (docs/sampling.md).</summary>
    Auto,

    /// <summary><see cref="FastUnet1D"/>: fused, allocation-free CPU forward on weights packed once.</summary>
    Fast,

    /// <summary>The TorchSharp <see cref="ConditionalUnet1D"/> (any device; training uses it).</summary>
    Torch,
}

/// <summary>The one place a backend name becomes a predictor.</summary>
public static class NoisePredictors
{
    /// <summary>
    /// The predictor for <paramref name="network"/> (on <paramref name="device"/>) with
    /// <paramref name="backend"/>: the network itself, or a <see cref="FastUnet1D"/> packed from its weights
    /// (the caller disposes it; it does not follow later changes of the weights).
    /// </summary>
    public static INoisePredictor Create(ConditionalUnet1D network, NetworkBackend backend, Device device)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(device);
        var cpu = device.type == DeviceType.CPU;
        return backend switch
        {
            NetworkBackend.Torch => network,
            NetworkBackend.Auto => cpu ? FastUnet1D.FromNetwork(network) : network,
            NetworkBackend.Fast when cpu => FastUnet1D.FromNetwork(network),
            NetworkBackend.Fast => throw new ArgumentException($"The fast backend runs on the CPU only, not on {device}: use --backend torch or auto."),
            _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "Unknown network backend."),
        };
    }

    /// <summary>Parses auto, fast or torch (case-insensitive).</summary>
    public static NetworkBackend Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Enum.TryParse<NetworkBackend>(name, ignoreCase: true, out var backend) && Enum.IsDefined(backend) && !int.TryParse(name, out _)
            ? backend
            : throw new ArgumentException($"Unknown network backend '{name}': use auto, fast or torch.");
    }
}
