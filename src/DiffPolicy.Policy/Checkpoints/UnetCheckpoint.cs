using DiffPolicy.Policy.Network;

namespace DiffPolicy.Policy.Checkpoints;

/// <summary>
/// A network checkpoint directory: <c>unet.config.json</c> (the original's constructor arguments)
/// and <c>unet.safetensors</c> (the original's key names) — loadable by PyTorch DiffusionPolicy too.
/// </summary>
public static class UnetCheckpoint
{
    public const string ConfigFile = "unet.config.json";
    public const string WeightsFile = "unet.safetensors";

    /// <summary>
    /// Builds the network from <paramref name="configPath"/> and loads <paramref name="weightsPath"/>
    /// (.pt or .safetensors) strictly; the network is in eval mode, prepared for inference.
    /// </summary>
    public static ConditionalUnet1D Import(string weightsPath, string configPath)
    {
        var network = new ConditionalUnet1D(ConditionalUnet1DConfig.Load(configPath));
        try
        {
            network.LoadStrict(weightsPath);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        network.eval();
        network.PrepareForInference();
        return network;
    }

    /// <summary>Loads a checkpoint directory written by <see cref="Save"/>, as <see cref="Import"/>.</summary>
    public static ConditionalUnet1D Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Checkpoint directory '{directory}' does not exist.");
        return Import(Path.Combine(directory, WeightsFile), Path.Combine(directory, ConfigFile));
    }

    public static void Save(ConditionalUnet1D network, string directory)
    {
        ArgumentNullException.ThrowIfNull(network);
        Directory.CreateDirectory(directory);
        network.Config.Save(Path.Combine(directory, ConfigFile));
        network.SaveSafetensors(Path.Combine(directory, WeightsFile));
    }
}
