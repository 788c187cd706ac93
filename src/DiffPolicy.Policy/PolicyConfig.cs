using System.Text.Json;
using System.Text.Json.Serialization;
using DiffPolicy.Data;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Sampling;
using DiffPolicy.Policy.Schedulers;
using DiffPolicy.Policy.Training;
using DiffPolicy.Policy.Vision;

namespace DiffPolicy.Policy;

/// <summary>
/// A DiffusionPolicy configuration (low-dim, global FiLM conditioning): what the policy observes,
/// its horizons, the network, the noise scheduler, the sampler and how it is trained. JSON in
/// snake_case; see configs/README.md.
/// </summary>
public sealed record PolicyConfig
{
    public string Task { get; init; } = "pusht";

    /// <summary>Dataset key of the observation (e.g. "keypoint": the 8 T corners + agent, 18 values).</summary>
    public string ObsKey { get; init; } = "keypoint";

    public required int ObsDim { get; init; }
    public required int ActionDim { get; init; }

    /// <summary>Length of the predicted action trajectory.</summary>
    public int Horizon { get; init; } = 16;

    /// <summary>Observations the policy conditions on (the last n, padded by repeating the first).</summary>
    public int NObsSteps { get; init; } = 2;

    /// <summary>Actions executed per chunk: prediction[n_obs_steps − 1 : n_obs_steps − 1 + n_action_steps].</summary>
    public int NActionSteps { get; init; } = 8;

    public double ControlHz { get; init; } = 10;

    /// <summary>
    /// With an <see cref="ObsEncoder"/>: the observations the encoder reads (rgb and low_dim keys); obs_dim is then the
    /// encoder's features per step. Null for a policy conditioned directly on <see cref="ObsKey"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ObservationSpec>? Observations { get; init; }

    /// <summary>diffusion_policy's MultiImageObsEncoder settings (image policies), or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ObsEncoderConfig? ObsEncoder { get; init; }

    /// <summary>Where the weights came from (e.g. the imported checkpoint's policy <c>_target_</c>); informational.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Source { get; init; }

    /// <summary>The observations a robot sends: <see cref="Observations"/>, or the one low_dim <see cref="ObsKey"/> of obs_dim values.</summary>
    [JsonIgnore]
    public IReadOnlyList<ObservationSpec> Inputs => Observations ?? [new ObservationSpec(ObsKey, [ObsDim], ObservationSpec.LowDim)];

    public required ConditionalUnet1DConfig Model { get; init; }
    public NoiseSchedulerConfig Scheduler { get; init; } = new();
    public SamplerOptions Sampler { get; init; } = new();
    public TrainingConfig Training { get; init; } = new();

    public static PolicyConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Policy config '{path}' does not exist.", path);
        try
        {
            return FromJson(File.ReadAllText(path));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public static PolicyConfig FromJson(string json)
    {
        PolicyConfig config;
        try
        {
            config = JsonSerializer.Deserialize<PolicyConfig>(json, SnakeCaseJson.Options) ?? throw new InvalidDataException("The policy config is JSON null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Invalid policy config: {e.Message}", e);
        }
        config.Validate();
        return config;
    }

    public string ToJson() => JsonSerializer.Serialize(this, SnakeCaseJson.Options);

    /// <summary>Index of the first executed action in the predicted trajectory.</summary>
    [JsonIgnore]
    public int FirstActionIndex => NObsSteps - 1;

    /// <summary>
    /// Predicted actions from the observation's step to the end of the horizon, horizon − n_obs_steps + 1:
    /// what a chunk carries. The first n_action_steps are executed per chunk; in real time the rest keep the
    /// robot going while the next chunk is computed.
    /// </summary>
    [JsonIgnore]
    public int PredictedSteps => Horizon - FirstActionIndex;

    public void Validate()
    {
        Check.Require(ObsDim > 0 && ActionDim > 0, $"obs_dim and action_dim must be positive, got {ObsDim} and {ActionDim}.");
        Check.Require(NObsSteps >= 1 && NActionSteps >= 1, "n_obs_steps and n_action_steps must be at least 1.");
        Check.Require(NObsSteps - 1 + NActionSteps <= Horizon,
            $"n_obs_steps − 1 + n_action_steps ({NObsSteps - 1 + NActionSteps}) must fit in the horizon ({Horizon}).");
        Check.Require(ControlHz > 0 && double.IsFinite(ControlHz), $"control_hz must be positive, got {ControlHz}.");
        Check.Require(Model.InputDim == ActionDim, $"model.input_dim ({Model.InputDim}) must equal action_dim ({ActionDim}).");
        Check.Require(Model.GlobalCondDim == NObsSteps * ObsDim,
            $"model.global_cond_dim ({Model.GlobalCondDim}) must equal n_obs_steps × obs_dim ({NObsSteps * ObsDim}).");
        Check.Require(Model.Horizon is null || Model.Horizon == Horizon, $"model.horizon ({Model.Horizon}) must equal horizon ({Horizon}).");
        (Model with { Horizon = Horizon }).Validate();
        Check.Require((Observations is null) == (ObsEncoder is null), "observations and obs_encoder go together (an image policy has both).");
        if (Observations is not null && ObsEncoder is not null)
        {
            Check.Require(Observations.Count > 0, "observations must list at least one key.");
            foreach (var o in Observations) o.Validate();
            Check.Require(Observations.Select(o => o.Key).Distinct(StringComparer.Ordinal).Count() == Observations.Count, "observation keys must be distinct.");
            ObsEncoder.Validate(Observations);
            var features = ObsEncoderConfig.FeatureDim(Observations);
            Check.Require(ObsDim == features, $"obs_dim ({ObsDim}) must equal the encoder's features per step ({features}).");
        }
        Scheduler.Validate();
        Sampler.Validate();
        Training.Validate();
    }
}
