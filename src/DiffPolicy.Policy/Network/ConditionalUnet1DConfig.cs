using System.Text.Json;
using System.Text.Json.Serialization;
using DiffPolicy.Data;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// The constructor arguments of DiffusionPolicy's <c>ConditionalUnet1D</c> (same names and defaults,
/// JSON in snake_case exactly like the original's keyword arguments), plus the sample
/// <see cref="Horizon"/> the network is used with.
/// </summary>
public sealed record ConditionalUnet1DConfig
{
    /// <summary>Action dimension A: channels of the sample (B, horizon, A).</summary>
    public required int InputDim { get; init; }

    /// <summary>Length of <c>global_cond</c>: n_obs_steps × obs_dim.</summary>
    public required int GlobalCondDim { get; init; }

    public int DiffusionStepEmbedDim { get; init; } = 256;

    /// <summary>Channels per U-Net level; the sample length halves at each level but the last.</summary>
    public IReadOnlyList<int> DownDims { get; init; } = [256, 512, 1024];

    public int KernelSize { get; init; } = 3;

    public int NGroups { get; init; } = 8;

    /// <summary>FiLM with scale and bias (true) or bias only (false).</summary>
    public bool CondPredictScale { get; init; }

    /// <summary>Sample length T; not an argument of the original network, but fixed by its use.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Horizon { get; init; }

    /// <summary>What a sample length T must be a multiple of: 2^(levels−1), one halving per downsampling level.</summary>
    [JsonIgnore]
    public int LengthMultiple => 1 << (DownDims.Count - 1);

    /// <summary>Conditioning vector length fed to every residual block: step embedding + global_cond.</summary>
    [JsonIgnore]
    public int CondDim => DiffusionStepEmbedDim + GlobalCondDim;

    public static ConditionalUnet1DConfig FromJson(string json)
    {
        ConditionalUnet1DConfig config;
        try
        {
            config = JsonSerializer.Deserialize<ConditionalUnet1DConfig>(json, SnakeCaseJson.Options)
                ?? throw new InvalidDataException("The network config is JSON null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Invalid ConditionalUnet1D config: {e.Message}", e);
        }
        config.Validate();
        return config;
    }

    public static ConditionalUnet1DConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Network config '{path}' does not exist.", path);
        try
        {
            return FromJson(File.ReadAllText(path));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, SnakeCaseJson.Options);

    public void Save(string path) => File.WriteAllText(path, ToJson());

    /// <summary>Throws <see cref="InvalidDataException"/> naming the first inconsistent argument.</summary>
    public void Validate()
    {
        Check.Require(InputDim > 0, $"input_dim must be positive, got {InputDim}.");
        Check.Require(GlobalCondDim > 0, $"global_cond_dim must be positive, got {GlobalCondDim}.");
        Check.Require(DiffusionStepEmbedDim >= 4 && DiffusionStepEmbedDim % 2 == 0,
            $"diffusion_step_embed_dim must be even and at least 4, got {DiffusionStepEmbedDim}.");
        Check.Require(DownDims is { Count: > 0 }, "down_dims must list at least one level.");
        Check.Require(NGroups > 0, $"n_groups must be positive, got {NGroups}.");
        foreach (var dim in DownDims)
            Check.Require(dim > 0 && dim % NGroups == 0, $"every down_dims entry must be a positive multiple of n_groups = {NGroups}, got {dim}.");
        Check.Require(KernelSize > 0 && KernelSize % 2 == 1, $"kernel_size must be odd (same-length convolutions), got {KernelSize}.");
        Check.Require(Horizon is null || (Horizon > 0 && Horizon % LengthMultiple == 0),
            $"horizon must be a positive multiple of 2^(levels−1) = {LengthMultiple}, got {Horizon}.");
    }
}
