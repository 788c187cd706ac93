using DiffPolicy.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Checkpoints;

/// <summary>Strict state-dict loading and saving for any module.</summary>
public static class ModuleWeights
{
    /// <summary>
    /// Copies <paramref name="stateDict"/> into <paramref name="module"/> only when every key of the
    /// module is present with the same shape and no other key is; otherwise throws
    /// <see cref="StateDictMismatchException"/> listing all differences, and the module is unchanged.
    /// </summary>
    public static void LoadStrict(this nn.Module module, IReadOnlyDictionary<string, Tensor> stateDict, string source)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stateDict);
        var target = module.state_dict();
        var missing = target.Keys.Where(k => !stateDict.ContainsKey(k)).ToList();
        var unexpected = stateDict.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var shapes = target.Keys.Where(stateDict.ContainsKey)
            .Where(k => !target[k].shape.SequenceEqual(stateDict[k].shape))
            .Select(k => $"{k}: file {Shapes.Format(stateDict[k].shape)} vs network {Shapes.Format(target[k].shape)}")
            .ToList();
        if (missing.Count + unexpected.Count + shapes.Count > 0)
            throw new StateDictMismatchException(source, missing, unexpected, shapes);

        using var noGrad = no_grad();
        foreach (var (key, tensor) in target)
        {
            var value = stateDict[key];
            if (!value.is_floating_point() && tensor.is_floating_point())
                throw new InvalidDataException($"'{source}': {key} holds {value.dtype} values, expected floating point.");
            tensor.copy_(value);
        }
    }

    /// <summary>Reads a .pt or .safetensors state dict and loads it strictly.</summary>
    public static void LoadStrict(this nn.Module module, string weightsPath)
    {
        var stateDict = StateDictFile.Read(weightsPath);
        try
        {
            module.LoadStrict(stateDict, weightsPath);
        }
        finally
        {
            foreach (var tensor in stateDict.Values) tensor.Dispose();
        }
    }

    /// <summary>Writes the module's state dict (original key names) as safetensors.</summary>
    public static void SaveSafetensors(this nn.Module module, string path) =>
        StateDictFile.WriteSafetensors(path, module.state_dict());
}
