using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Checkpoints;

/// <summary>
/// A trained policy on disk, as a directory: <c>policy.json</c> (<see cref="PolicyConfig"/>),
/// <c>unet.safetensors</c> (the EMA network under the original's key names) and
/// <c>normalizer.safetensors</c> (DiffusionPolicy's <c>normalizer.params_dict.{obs,action}.*</c>).
/// Saving writes a sibling directory and swaps it in, so a reader never sees half a checkpoint.
/// </summary>
public static class PolicyCheckpoint
{
    public const string ConfigFile = "policy.json";
    public const string WeightsFile = "unet.safetensors";
    public const string NormalizerFile = "normalizer.safetensors";

    public static void Save(string directory, PolicyConfig config, ConditionalUnet1D network, LinearNormalizer obs, LinearNormalizer action)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(obs);
        ArgumentNullException.ThrowIfNull(action);
        AtomicDirectory.Write(directory, staging =>
        {
            File.WriteAllText(Path.Combine(staging, ConfigFile), config.ToJson());
            network.SaveSafetensors(Path.Combine(staging, WeightsFile));
            using var scope = NewDisposeScope();
            var tensors = obs.StateDict("obs").Concat(action.StateDict("action"))
                .ToDictionary(e => e.Key, e => tensor(e.Values));
            StateDictFile.WriteSafetensors(Path.Combine(staging, NormalizerFile), tensors);
        });
    }

    /// <summary>Reads a checkpoint; the network is strict-loaded, in eval mode, on <paramref name="device"/>, prepared for inference.</summary>
    public static (PolicyConfig Config, ConditionalUnet1D Network, LinearNormalizer Obs, LinearNormalizer Action) Load(string directory, Device? device = null)
    {
        string dir = AtomicDirectory.Resolve(directory);
        var config = PolicyConfig.Load(Path.Combine(dir, ConfigFile));
        var network = new ConditionalUnet1D(config.Model with { Horizon = config.Horizon });
        try
        {
            network.LoadStrict(Path.Combine(dir, WeightsFile));
            network.eval();
            if (device != null) network.to(device);
            network.PrepareForInference();
            string normalizerPath = Path.Combine(dir, NormalizerFile);
            var stored = StateDictFile.Read(normalizerPath);
            try
            {
                float[] Lookup(string key) => stored.TryGetValue(key, out var t)
                    ? t.to(float32).data<float>().ToArray()
                    : throw new InvalidDataException($"'{normalizerPath}' has no '{key}'.");
                var obs = LinearNormalizer.FromStateDict("obs", Lookup);
                var action = LinearNormalizer.FromStateDict("action", Lookup);
                if (obs.Dim != config.ObsDim || action.Dim != config.ActionDim)
                    throw new InvalidDataException($"'{normalizerPath}': normalizer dims ({obs.Dim}, {action.Dim}) differ from obs_dim/action_dim ({config.ObsDim}, {config.ActionDim}).");
                return (config, network, obs, action);
            }
            finally
            {
                foreach (var t in stored.Values) t.Dispose();
            }
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
