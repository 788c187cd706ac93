using System.Globalization;
using DiffPolicy.Data;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Schedulers;
using DiffPolicy.Policy.Training;
using DiffPolicy.Policy.Vision;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Import;

/// <summary>A diffusion_policy workspace checkpoint turned into this project's pieces; disposing releases the networks.</summary>
public sealed class ImportedPolicy(
    PolicyConfig config, ConditionalUnet1D network, IReadOnlyDictionary<string, LinearNormalizer> normalizers, MultiImageObsEncoder? encoder,
    string target, bool usedEma) : IDisposable
{
    public PolicyConfig Config { get; } = config;
    public ConditionalUnet1D Network { get; } = network;
    public IReadOnlyDictionary<string, LinearNormalizer> Normalizers { get; } = normalizers;
    public MultiImageObsEncoder? Encoder { get; } = encoder;

    /// <summary>The checkpoint's <c>policy._target_</c>.</summary>
    public string Target { get; } = target;

    /// <summary>Whether the weights are the <c>ema_model</c>'s (diffusion_policy evaluates the EMA when there is one).</summary>
    public bool UsedEma { get; } = usedEma;

    /// <summary>Writes this project's checkpoint directory (atomically).</summary>
    public void Save(string directory) => PolicyCheckpoint.Save(directory, Config, Network, Normalizers, Encoder);

    public void Dispose()
    {
        Network.Dispose();
        Encoder?.Dispose();
    }
}

/// <summary>
/// Reads a real-stanford/diffusion_policy workspace checkpoint (<c>BaseWorkspace.save_checkpoint</c>'s torch zip with a
/// dill pickle: <c>cfg</c> as an unresolved OmegaConf graph, <c>state_dicts</c>, <c>pickles</c>) without Python, and
/// builds the policy it describes: <c>DiffusionUnetLowdimPolicy</c> with the observations as global conditioning, or
/// <c>DiffusionUnetImagePolicy</c> with a <c>MultiImageObsEncoder</c> on ResNet-18 with GroupNorm. The EMA weights are
/// taken when the file has them. Anything else is refused with one message naming what is not supported.
/// </summary>
public static class DiffusionPolicyImporter
{
    public const string LowdimTarget = "diffusion_policy.policy.diffusion_unet_lowdim_policy.DiffusionUnetLowdimPolicy";
    public const string ImageTarget = "diffusion_policy.policy.diffusion_unet_image_policy.DiffusionUnetImagePolicy";
    const string UnetTarget = "diffusion_policy.model.diffusion.conditional_unet1d.ConditionalUnet1D";
    const string EncoderTarget = "diffusion_policy.model.vision.multi_image_obs_encoder.MultiImageObsEncoder";
    const string SchedulerTarget = "diffusers.schedulers.scheduling_ddpm.DDPMScheduler";
    const string ResnetGetter = "diffusion_policy.model.vision.model_getter.get_resnet";

    static string Supported => $"supported: {LowdimTarget} (obs_as_global_cond) and {ImageTarget} (MultiImageObsEncoder on resnet18)";

    public static ImportedPolicy Read(string path)
    {
        using var file = TorchZipFile.Open(path);
        var payload = file.Root as OrderedDictionary<object, object?>
            ?? throw new InvalidDataException($"'{path}' is a torch.save file but not a diffusion_policy workspace checkpoint (no payload dict).");
        if (!payload.TryGetValue("cfg", out var cfgObject) || cfgObject is not PyObject { Type.Name: "DictConfig" })
            throw new InvalidDataException($"'{path}' has no 'cfg' (an OmegaConf DictConfig): not a diffusion_policy workspace checkpoint.");
        if (!payload.TryGetValue("state_dicts", out var statesObject) || statesObject is not OrderedDictionary<object, object?> states)
            throw new InvalidDataException($"'{path}' has no 'state_dicts': not a diffusion_policy workspace checkpoint.");

        var cfg = new ConfigResolver(ConfigNode.FromPickle(cfgObject, path), path);
        var reader = new CfgReader(cfg, path);
        var target = reader.String("policy._target_");
        if (target is not (LowdimTarget or ImageTarget))
            throw new InvalidDataException($"'{path}': policy._target_ is {target}, which is not supported ({Supported}).");

        var usedEma = states.TryGetValue("ema_model", out var ema) && ema is OrderedDictionary<object, object?>;
        var stateObject = usedEma ? ema : states.TryGetValue("model", out var model) ? model : null;
        if (stateObject is not OrderedDictionary<object, object?> stateDict)
            throw new InvalidDataException($"'{path}': state_dicts has neither 'ema_model' nor 'model'.");
        var stateName = usedEma ? "state_dicts.ema_model" : "state_dicts.model";

        var (config, observationFields) = target == LowdimTarget ? LowdimConfig(reader) : ImageConfig(reader);
        config = config with { Task = reader.OptionalString("task.name") ?? config.Task, ControlHz = reader.OptionalNumber("task.env_runner.fps") ?? 10, Source = target };
        try
        {
            config.Validate();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}': {e.Message}");
        }

        // The state dict, split by owner; ModuleAttrMixin's empty _dummy_variable parameters carry nothing.
        var unet = new Dictionary<string, TensorRef>();
        var encoderWeights = new Dictionary<string, TensorRef>();
        var normalizerWeights = new Dictionary<string, TensorRef>();
        var unexpected = new List<string>();
        foreach (var (keyObject, value) in stateDict)
        {
            var key = keyObject as string ?? throw new InvalidDataException($"'{path}': {stateName} has a key that is not a string.");
            if (value is not TensorRef t) throw new InvalidDataException($"'{path}': {stateName}.{key} is not a tensor.");
            if (key.EndsWith("_dummy_variable", StringComparison.Ordinal) && t.Size.Aggregate(1L, (a, b) => a * b) == 0) continue;
            if (key.StartsWith("model.", StringComparison.Ordinal)) unet[key["model.".Length..]] = t;
            else if (key.StartsWith("obs_encoder.", StringComparison.Ordinal) && config.ObsEncoder is not null) encoderWeights[key["obs_encoder.".Length..]] = t;
            else if (key.StartsWith("normalizer.params_dict.", StringComparison.Ordinal)) normalizerWeights[key] = t;
            else unexpected.Add(key);
        }
        if (unexpected.Count > 0)
            throw new InvalidDataException($"'{path}': {stateName} has keys this policy does not have: {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", …" : "")}.");

        var network = new ConditionalUnet1D(config.Model with { Horizon = config.Horizon });
        MultiImageObsEncoder? encoder = null;
        try
        {
            LoadInto(network, unet, file, $"{path} ({stateName}, model.*)");
            network.eval();
            network.PrepareForInference();
            if (config.ObsEncoder is not null)
            {
                encoder = new MultiImageObsEncoder(config.ObsEncoder, config.Observations!);
                LoadInto(encoder, encoderWeights, file, $"{path} ({stateName}, obs_encoder.*)");
                encoder.eval();
            }
            var normalizers = new Dictionary<string, LinearNormalizer>();
            foreach (var field in observationFields.Append(PolicyCheckpoint.ActionField))
            {
                normalizers[field] = LinearNormalizer.FromStateDict(field, key =>
                {
                    if (!normalizerWeights.TryGetValue(key, out var t)) throw new InvalidDataException($"'{path}': {stateName} has no '{key}'.");
                    using var values = file.ReadFloat(t, key);
                    return values.data<float>().ToArray();
                });
            }
            var extra = normalizerWeights.Keys.Where(k => !observationFields.Append(PolicyCheckpoint.ActionField).Any(f => k.StartsWith($"normalizer.params_dict.{f}.", StringComparison.Ordinal))).ToList();
            if (extra.Count > 0) throw new InvalidDataException($"'{path}': {stateName} has normalizer keys no observation uses: {string.Join(", ", extra.Take(5))}.");
            PolicyCheckpoint.CheckNormalizers(config, normalizers, $"{path} ({stateName})");
            return new ImportedPolicy(config, network, normalizers, encoder, target, usedEma);
        }
        catch
        {
            network.Dispose();
            encoder?.Dispose();
            throw;
        }
    }

    static void LoadInto(TorchSharp.torch.nn.Module module, Dictionary<string, TensorRef> weights, TorchZipFile file, string source)
    {
        var expected = module.state_dict();
        var missing = expected.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        var unexpected = weights.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var shapes = expected.Keys.Where(weights.ContainsKey).Where(k => !expected[k].shape.SequenceEqual(weights[k].Size))
            .Select(k => $"{k}: file {Shapes.Format(weights[k].Size)} vs config {Shapes.Format(expected[k].shape)}").ToList();
        if (missing.Count + unexpected.Count + shapes.Count > 0)
        {
            static string First(string what, List<string> items) => items.Count == 0 ? "" : $"; {items.Count} {what} (first: {items[0]})";
            throw new InvalidDataException(
                $"'{source}' does not fit the config{First("missing keys", missing)}{First("unexpected keys", unexpected)}{First("shape mismatches", shapes)}.");
        }
        var tensors = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (key, reference) in weights) tensors[key] = file.Read(reference, key);
            module.LoadStrict(tensors, source);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    static (PolicyConfig Config, IReadOnlyList<string> ObservationFields) LowdimConfig(CfgReader cfg)
    {
        const string p = "policy";
        cfg.RequireTarget($"{p}.model._target_", UnetTarget);
        if (cfg.Bool($"{p}.obs_as_local_cond", false))
            throw cfg.Unsupported($"{p}.obs_as_local_cond is true (local conditioning); supported: obs_as_global_cond true");
        if (!cfg.Bool($"{p}.obs_as_global_cond", false))
            throw cfg.Unsupported($"{p}.obs_as_global_cond is false (observations by inpainting); supported: obs_as_global_cond true");
        if (cfg.Bool($"{p}.pred_action_steps_only", false))
            throw cfg.Unsupported($"{p}.pred_action_steps_only is true; supported: the whole horizon predicted");
        if (!cfg.Bool($"{p}.oa_step_convention", false))
            throw cfg.Unsupported($"{p}.oa_step_convention is false (actions from step n_obs_steps); supported: true (from step n_obs_steps − 1)");
        if (cfg.OptionalNumber($"{p}.model.local_cond_dim") is not null)
            throw cfg.Unsupported($"{p}.model.local_cond_dim is set (local conditioning); supported: none");
        int obsDim = cfg.Int($"{p}.obs_dim"), actionDim = cfg.Int($"{p}.action_dim"), nObs = cfg.Int($"{p}.n_obs_steps");
        var model = UnetConfig(cfg, $"{p}.model", cfg.Int($"{p}.model.input_dim"), cfg.Int($"{p}.model.global_cond_dim"), defaults: (256, [256, 512, 1024], 3, 8, false));
        var config = new PolicyConfig
        {
            ObsKey = "obs",
            ObsDim = obsDim,
            ActionDim = actionDim,
            Horizon = cfg.Int($"{p}.horizon"),
            NObsSteps = nObs,
            NActionSteps = cfg.Int($"{p}.n_action_steps"),
            Model = model,
            Scheduler = SchedulerConfig(cfg, p),
        };
        return (config, [PolicyCheckpoint.ObsField]);
    }

    static (PolicyConfig Config, IReadOnlyList<string> ObservationFields) ImageConfig(CfgReader cfg)
    {
        const string p = "policy", e = "policy.obs_encoder";
        if (!cfg.Bool($"{p}.obs_as_global_cond", true))
            throw cfg.Unsupported($"{p}.obs_as_global_cond is false (observations by inpainting); supported: obs_as_global_cond true");
        cfg.RequireTarget($"{e}._target_", EncoderTarget);
        cfg.RequireTarget($"{e}.rgb_model._target_", ResnetGetter);
        var backbone = cfg.String($"{e}.rgb_model.name");
        if (backbone != "resnet18") throw cfg.Unsupported($"{e}.rgb_model.name is {backbone}; supported: resnet18");
        if (cfg.OptionalString($"{e}.rgb_model.weights") is "r3m" or "R3M") throw cfg.Unsupported($"{e}.rgb_model.weights is r3m; supported: torchvision resnet18");

        var observations = new List<ObservationSpec>();
        var meta = cfg.Map($"{p}.shape_meta.obs");
        foreach (var (key, value) in meta)
        {
            var attr = value as OrderedDictionary<string, object?> ?? throw cfg.Invalid($"{p}.shape_meta.obs.{key} is not a map");
            var type = attr.TryGetValue("type", out var t) ? t as string ?? "low_dim" : "low_dim";
            if (type is not ("rgb" or "low_dim")) throw cfg.Unsupported($"{p}.shape_meta.obs.{key}.type is {type}; supported: rgb, low_dim");
            var shape = CfgReader.Ints(attr.TryGetValue("shape", out var s) ? s : null) ?? throw cfg.Invalid($"{p}.shape_meta.obs.{key}.shape is not a list of integers");
            var spec = new ObservationSpec(key, shape, type);
            try
            {
                spec.Validate();
            }
            catch (InvalidDataException x)
            {
                throw cfg.Unsupported($"{p}.shape_meta.{x.Message.TrimEnd('.')}");
            }
            observations.Add(spec);
        }
        var actionShape = CfgReader.Ints(cfg.Resolve($"{p}.shape_meta.action.shape")) ?? throw cfg.Invalid($"{p}.shape_meta.action.shape is not a list of integers");
        if (actionShape.Length != 1) throw cfg.Unsupported($"{p}.shape_meta.action.shape has {actionShape.Length} axes; supported: one");

        var rgbKeys = observations.Where(o => o.IsRgb).Select(o => o.Key).ToList();
        var encoder = new ObsEncoderConfig
        {
            ResizeShape = cfg.PerKeyShape($"{e}.resize_shape", rgbKeys),
            CropShape = cfg.PerKeyShape($"{e}.crop_shape", rgbKeys),
            RandomCrop = cfg.Bool($"{e}.random_crop", true),
            UseGroupNorm = cfg.Bool($"{e}.use_group_norm", false),
            ShareRgbModel = cfg.Bool($"{e}.share_rgb_model", false),
            ImagenetNorm = cfg.Bool($"{e}.imagenet_norm", false),
        };
        try
        {
            encoder.Validate(observations);
        }
        catch (InvalidDataException x)
        {
            throw cfg.Unsupported(x.Message.TrimEnd('.'));
        }
        int features = ObsEncoderConfig.FeatureDim(observations), nObs = cfg.Int($"{p}.n_obs_steps");
        var model = UnetConfig(cfg, p, actionShape[0], features * nObs, defaults: (256, [256, 512, 1024], 5, 8, true));
        var config = new PolicyConfig
        {
            ObsKey = "obs",
            ObsDim = features,
            ActionDim = actionShape[0],
            Horizon = cfg.Int($"{p}.horizon"),
            NObsSteps = nObs,
            NActionSteps = cfg.Int($"{p}.n_action_steps"),
            Model = model,
            Scheduler = SchedulerConfig(cfg, p),
            Observations = observations,
            ObsEncoder = encoder,
        };
        return (config, [.. observations.Select(o => o.Key)]);
    }

    static ConditionalUnet1DConfig UnetConfig(CfgReader cfg, string at, int inputDim, int globalCondDim,
        (int Embed, int[] DownDims, int Kernel, int Groups, bool Scale) defaults) => new()
        {
            InputDim = inputDim,
            GlobalCondDim = globalCondDim,
            DiffusionStepEmbedDim = cfg.OptionalInt($"{at}.diffusion_step_embed_dim") ?? defaults.Embed,
            DownDims = cfg.Has($"{at}.down_dims") ? CfgReader.Ints(cfg.Resolve($"{at}.down_dims")) ?? throw cfg.Invalid($"{at}.down_dims is not a list of integers") : defaults.DownDims,
            KernelSize = cfg.OptionalInt($"{at}.kernel_size") ?? defaults.Kernel,
            NGroups = cfg.OptionalInt($"{at}.n_groups") ?? defaults.Groups,
            CondPredictScale = cfg.Bool($"{at}.cond_predict_scale", defaults.Scale),
        };

    static NoiseSchedulerConfig SchedulerConfig(CfgReader cfg, string policy)
    {
        var s = $"{policy}.noise_scheduler";
        cfg.RequireTarget($"{s}._target_", SchedulerTarget);
        var beta = cfg.OptionalString($"{s}.beta_schedule") ?? "linear";
        if (beta != "squaredcos_cap_v2") throw cfg.Unsupported($"{s}.beta_schedule is {beta}; supported: squaredcos_cap_v2");
        var variance = cfg.OptionalString($"{s}.variance_type") ?? "fixed_small";
        if (variance != "fixed_small") throw cfg.Unsupported($"{s}.variance_type is {variance}; supported: fixed_small");
        var prediction = cfg.OptionalString($"{s}.prediction_type") ?? "epsilon";
        var predictionType = prediction switch
        {
            "epsilon" => PredictionType.Epsilon,
            "sample" => PredictionType.Sample,
            _ => throw cfg.Unsupported($"{s}.prediction_type is {prediction}; supported: epsilon, sample"),
        };
        var train = cfg.OptionalInt($"{s}.num_train_timesteps") ?? 1000;
        return new NoiseSchedulerConfig
        {
            NumTrainTimesteps = train,
            PredictionType = predictionType,
            ClipSample = cfg.Bool($"{s}.clip_sample", true),
            Solver = SolverKind.Ddpm,
            InferenceSteps = cfg.OptionalInt($"{policy}.num_inference_steps") ?? train,
        };
    }

    /// <summary>Typed reads of resolved config values, with errors naming the key.</summary>
    sealed class CfgReader(ConfigResolver resolver, string source)
    {
        public bool Has(string path) => resolver.Has(path);

        public object? Resolve(string path) => resolver.Has(path) ? resolver.Resolve(path) : throw Invalid($"the config has no '{path}'");

        public InvalidDataException Invalid(string what) => new($"'{source}': {what}.");

        public InvalidDataException Unsupported(string what) => new($"'{source}': {what}.");

        public string String(string path) => Resolve(path) as string ?? throw Invalid($"{path} is not a string");

        public string? OptionalString(string path) => Has(path) ? Resolve(path) as string : null;

        public int Int(string path) => OptionalInt(path) ?? throw Invalid($"{path} is missing or null");

        public int? OptionalInt(string path)
        {
            if (!Has(path)) return null;
            return Resolve(path) switch
            {
                null => null,
                long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
                double d when d == Math.Floor(d) && Math.Abs(d) < int.MaxValue => (int)d,
                var v => throw Invalid($"{path} is {PyExpression.Str(v as string ?? v?.ToString())}, not an integer"),
            };
        }

        public double? OptionalNumber(string path)
        {
            if (!Has(path)) return null;
            try
            {
                return Resolve(path) switch { long l => l, double d => d, _ => null };
            }
            catch (InvalidDataException)
            {
                return null; // an informational key that does not resolve (e.g. a resolver of hydra's) is not needed
            }
        }

        public bool Bool(string path, bool whenAbsent)
        {
            if (!Has(path)) return whenAbsent;
            return Resolve(path) switch
            {
                bool b => b,
                null => whenAbsent,
                var v => throw Invalid($"{path} is {v}, not a boolean"),
            };
        }

        public OrderedDictionary<string, object?> Map(string path) => Resolve(path) as OrderedDictionary<string, object?> ?? throw Invalid($"{path} is not a map");

        public void RequireTarget(string path, string expected)
        {
            var target = Has(path) ? Resolve(path) as string : null;
            if (target != expected) throw Unsupported($"{path} is {target ?? "missing"}; supported: {expected}");
        }

        /// <summary>An (h, w) for all rgb keys, a map of per-key (h, w), or null.</summary>
        public IReadOnlyDictionary<string, int[]>? PerKeyShape(string path, IReadOnlyList<string> rgbKeys)
        {
            if (!Has(path)) return null;
            var value = Resolve(path);
            if (value is null) return null;
            if (value is OrderedDictionary<string, object?> map)
                return map.ToDictionary(kv => kv.Key, kv => Ints(kv.Value) is { Length: 2 } hw ? hw : throw Invalid($"{path}.{kv.Key} is not [h, w]"));
            var shape = Ints(value) is { Length: 2 } both ? both : throw Invalid($"{path} is not [h, w]");
            return rgbKeys.ToDictionary(k => k, _ => shape);
        }

        public static int[]? Ints(object? value) =>
            value is List<object?> list && list.All(v => v is long l && l is >= 0 and <= int.MaxValue)
                ? list.Select(v => (int)(long)v!).ToArray()
                : null;
    }
}
