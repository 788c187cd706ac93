using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Training;
using DiffPolicy.Policy.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Checkpoints;

/// <summary>
/// A trained policy on disk, as a directory: <c>policy.json</c> (<see cref="PolicyConfig"/>),
/// <c>unet.safetensors</c> (the EMA network under the original's key names),
/// <c>normalizer.safetensors</c> (DiffusionPolicy's <c>normalizer.params_dict.&lt;field&gt;.*</c>: <c>obs</c> and
/// <c>action</c>, or one field per observation key and <c>action</c> for an image policy) and, for an image policy,
/// <c>obs_encoder.safetensors</c> (the MultiImageObsEncoder's state dict, keys without the <c>obs_encoder.</c> prefix).
/// Saving writes a sibling directory and swaps it in, so a reader never sees half a checkpoint.
/// </summary>
public static class PolicyCheckpoint
{
    public const string ConfigFile = "policy.json";
    public const string WeightsFile = "unet.safetensors";
    public const string NormalizerFile = "normalizer.safetensors";
    public const string EncoderFile = "obs_encoder.safetensors";

    /// <summary>The normalizer field of a policy conditioned directly on its observation.</summary>
    public const string ObsField = "obs";

    public const string ActionField = "action";

    public static void Save(string directory, PolicyConfig config, ConditionalUnet1D network, LinearNormalizer obs, LinearNormalizer action) =>
        Save(directory, config, network, new Dictionary<string, LinearNormalizer> { [ObsField] = obs, [ActionField] = action }, null);

    /// <summary>Writes a checkpoint; <paramref name="normalizers"/> holds <c>action</c> and the fields <see cref="NormalizerFields"/> names.</summary>
    public static void Save(string directory, PolicyConfig config, ConditionalUnet1D network, IReadOnlyDictionary<string, LinearNormalizer> normalizers, MultiImageObsEncoder? encoder)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(normalizers);
        config.Validate();
        foreach (var field in NormalizerFields(config))
            if (!normalizers.ContainsKey(field)) throw new ArgumentException($"no normalizer for '{field}'.", nameof(normalizers));
        if ((encoder is null) != (config.ObsEncoder is null)) throw new ArgumentException("an encoder goes with an obs_encoder config.", nameof(encoder));
        AtomicDirectory.Write(directory, staging =>
        {
            File.WriteAllText(Path.Combine(staging, ConfigFile), config.ToJson());
            network.SaveSafetensors(Path.Combine(staging, WeightsFile));
            encoder?.SaveSafetensors(Path.Combine(staging, EncoderFile));
            using var scope = NewDisposeScope();
            var tensors = NormalizerFields(config).SelectMany(f => normalizers[f].StateDict(f))
                .ToDictionary(e => e.Key, e => tensor(e.Values));
            StateDictFile.WriteSafetensors(Path.Combine(staging, NormalizerFile), tensors);
        });
    }

    /// <summary>The normalizer fields a policy of <paramref name="config"/> needs: its observation fields, then <c>action</c>.</summary>
    public static IReadOnlyList<string> NormalizerFields(PolicyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Observations is null ? [ObsField, ActionField] : [.. config.Observations.Select(o => o.Key), ActionField];
    }

    /// <summary>Reads a low-dim checkpoint (one <c>obs</c> normalizer); see <see cref="LoadParts"/> for any checkpoint.</summary>
    public static (PolicyConfig Config, ConditionalUnet1D Network, LinearNormalizer Obs, LinearNormalizer Action) Load(string directory, Device? device = null)
    {
        var parts = LoadParts(directory, device);
        if (parts.Encoder is not null)
        {
            parts.Dispose();
            throw new InvalidDataException($"'{directory}' holds an image policy; this command needs a low-dim one.");
        }
        return (parts.Config, parts.Network, parts.Normalizers[ObsField], parts.Normalizers[ActionField]);
    }

    /// <summary>Reads a checkpoint; networks are strict-loaded, in eval mode, on <paramref name="device"/>, prepared for inference.</summary>
    public static PolicyParts LoadParts(string directory, Device? device = null)
    {
        var dir = AtomicDirectory.Resolve(directory);
        var config = PolicyConfig.Load(Path.Combine(dir, ConfigFile));
        var network = new ConditionalUnet1D(config.Model with { Horizon = config.Horizon });
        MultiImageObsEncoder? encoder = null;
        try
        {
            network.LoadStrict(Path.Combine(dir, WeightsFile));
            network.eval();
            if (device != null) network.to(device);
            network.PrepareForInference();
            if (config.ObsEncoder is not null)
            {
                encoder = new MultiImageObsEncoder(config.ObsEncoder, config.Observations!);
                encoder.LoadStrict(Path.Combine(dir, EncoderFile));
                encoder.eval();
                if (device != null) encoder.to(device);
            }
            var normalizerPath = Path.Combine(dir, NormalizerFile);
            var stored = StateDictFile.Read(normalizerPath);
            try
            {
                float[] Lookup(string key) => stored.TryGetValue(key, out var t)
                    ? t.to(float32).data<float>().ToArray()
                    : throw new InvalidDataException($"'{normalizerPath}' has no '{key}'.");
                var normalizers = NormalizerFields(config).ToDictionary(f => f, f => LinearNormalizer.FromStateDict(f, Lookup));
                CheckNormalizers(config, normalizers, normalizerPath);
                return new PolicyParts(config, network, normalizers, encoder);
            }
            finally
            {
                foreach (var t in stored.Values) t.Dispose();
            }
        }
        catch
        {
            network.Dispose();
            encoder?.Dispose();
            throw;
        }
    }

    /// <summary>Each normalizer's width fits its field: obs_dim / action_dim, a low_dim key's length, or 1 for an image range.</summary>
    public static void CheckNormalizers(PolicyConfig config, IReadOnlyDictionary<string, LinearNormalizer> normalizers, string source)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(normalizers);
        void Require(string field, bool ok, string expected) =>
            Check.Require(ok, $"'{source}': the normalizer of '{field}' has {normalizers[field].Dim} values, expected {expected}.");
        Require(ActionField, normalizers[ActionField].Dim == config.ActionDim, $"action_dim = {config.ActionDim}");
        if (config.Observations is null)
        {
            Require(ObsField, normalizers[ObsField].Dim == config.ObsDim, $"obs_dim = {config.ObsDim}");
            return;
        }
        foreach (var o in config.Observations)
        {
            var dim = normalizers[o.Key].Dim;
            // The original reshapes to (−1, D) before scaling: any D that divides one row works the same way.
            Require(o.Key, o.IsRgb ? o.Length % dim == 0 : dim == o.Length, o.IsRgb ? "a divisor of the image size (1 for the [0, 1] → [−1, 1] range)" : $"{o.Length}");
        }
    }
}

/// <summary>A loaded checkpoint's pieces; disposing releases the networks.</summary>
public sealed record PolicyParts(
    PolicyConfig Config, ConditionalUnet1D Network, IReadOnlyDictionary<string, LinearNormalizer> Normalizers, MultiImageObsEncoder? Encoder) : IDisposable
{
    public void Dispose()
    {
        Network.Dispose();
        Encoder?.Dispose();
    }
}
