using DiffPolicy.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Vision;

/// <summary>
/// diffusion_policy's <c>MultiImageObsEncoder</c> on ResNet-18 (GroupNorm per camera with <c>use_group_norm</c>; a shared
/// backbone keeps BatchNorm, as the original does). Per rgb key: resize (torchvision 0.14's
/// tensor Resize: bilinear, align_corners false, no antialias) → crop (CropRandomizer: random in training, centre at
/// inference) → ImageNet normalisation → the key's backbone, or one shared backbone run on all cameras at once. Features
/// are the rgb keys' 512 each in sorted key order, then the low_dim keys' values in sorted key order. Module names are the
/// original's state-dict keys (<c>key_model_map.&lt;key&gt;.…</c>, or <c>key_model_map.rgb.…</c> when shared).
/// </summary>
public sealed class MultiImageObsEncoder : nn.Module<IReadOnlyDictionary<string, Tensor>, Tensor>
{
    internal static readonly float[] ImagenetMean = [0.485f, 0.456f, 0.406f];
    internal static readonly float[] ImagenetStd = [0.229f, 0.224f, 0.225f];

#pragma warning disable IDE1006 // field names are the PyTorch state-dict keys
    readonly ModuleDict<nn.Module<Tensor, Tensor>> key_model_map;
#pragma warning restore IDE1006

    readonly Dictionary<string, ObservationSpec> specs;

    public MultiImageObsEncoder(ObsEncoderConfig config, IReadOnlyList<ObservationSpec> observations) : base(nameof(MultiImageObsEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(observations);
        config.Validate(observations);
        Config = config;
        specs = observations.ToDictionary(o => o.Key, StringComparer.Ordinal);
        Observations = [.. observations];
        RgbKeys = [.. observations.Where(o => o.IsRgb).Select(o => o.Key).Order(StringComparer.Ordinal)];
        LowDimKeys = [.. observations.Where(o => !o.IsRgb).Select(o => o.Key).Order(StringComparer.Ordinal)];
        FeatureDim = ObsEncoderConfig.FeatureDim(observations);
        key_model_map = new ModuleDict<nn.Module<Tensor, Tensor>>();
        if (config.ShareRgbModel)
        {
            // The original swaps BatchNorm for GroupNorm only in per-camera copies: a shared backbone keeps BatchNorm (kept).
            if (RgbKeys.Count > 0) key_model_map.Add(("rgb", new ResNet18(groupNorm: false)));
        }
        else
        {
            foreach (var key in RgbKeys) key_model_map.Add((key, new ResNet18(config.UseGroupNorm)));
        }
        RegisterComponents();
    }

    public ObsEncoderConfig Config { get; }

    /// <summary>The observations it reads, as configured.</summary>
    public IReadOnlyList<ObservationSpec> Observations { get; }

    /// <summary>rgb keys in the order their features appear (sorted).</summary>
    public IReadOnlyList<string> RgbKeys { get; }

    /// <summary>low_dim keys in the order their values follow the image features (sorted).</summary>
    public IReadOnlyList<string> LowDimKeys { get; }

    /// <summary>Features per row: 512 per camera + the low_dim values.</summary>
    public int FeatureDim { get; }

    /// <summary>Draws the training crops; null uses the global generator.</summary>
    public Generator? CropGenerator { get; set; }

    /// <param name="obs">Normalised observations, N rows each: rgb (N, 3, H, W), low_dim (N, D).</param>
    /// <returns>(N, <see cref="FeatureDim"/>)</returns>
    public override Tensor forward(IReadOnlyDictionary<string, Tensor> obs)
    {
        ArgumentNullException.ThrowIfNull(obs);
        using var scope = NewDisposeScope();
        long n = -1;
        Tensor Input(string key)
        {
            if (!obs.TryGetValue(key, out var x)) throw new ArgumentException($"the observation has no '{key}'.", nameof(obs));
            var shape = specs[key].Shape;
            if (x.dim() != shape.Count + 1 || !x.shape.Skip(1).SequenceEqual(shape.Select(d => (long)d)))
                throw new ArgumentException($"'{key}' has shape {Shapes.Format(x.shape)}, expected (N, {string.Join(", ", shape)}).", nameof(obs));
            if (n >= 0 && x.shape[0] != n) throw new ArgumentException($"'{key}' has {x.shape[0]} rows, other keys {n}.", nameof(obs));
            n = x.shape[0];
            return x;
        }

        var features = new List<Tensor>();
        if (Config.ShareRgbModel && RgbKeys.Count > 0)
        {
            var images = cat(RgbKeys.Select(k => Transform(k, Input(k))).ToList(), 0); // (K·N, 3, h, w)
            var feature = key_model_map["rgb"].call(images);                             // (K·N, 512)
            features.Add(feature.reshape(RgbKeys.Count, n, -1).transpose(0, 1).reshape(n, -1));
        }
        else
        {
            foreach (var key in RgbKeys) features.Add(key_model_map[key].call(Transform(key, Input(key))));
        }
        foreach (var key in LowDimKeys) features.Add(Input(key));
        return cat(features, -1).MoveToOuterDisposeScope();
    }

    /// <summary>Resize → crop → ImageNet normalisation of one camera's (N, 3, H, W) images.</summary>
    public Tensor Transform(string key, Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var x = images;
        if (Config.ResizeShape?.TryGetValue(key, out var size) == true)
            x = nn.functional.interpolate(x, [size[0], size[1]], mode: InterpolationMode.Bilinear, align_corners: false);
        if (Config.RandomCrop && Config.CropShape?.TryGetValue(key, out var crop) == true)
            x = training ? RandomCrop(x, crop[0], crop[1]) : CenterCrop(x, crop[0], crop[1]);
        if (Config.ImagenetNorm)
        {
            var mean = tensor(ImagenetMean, [1, 3, 1, 1]).to(x.device);
            var std = tensor(ImagenetStd, [1, 3, 1, 1]).to(x.device);
            x = x.add(mean, HeldScalars.MinusOne).div(std);
        }
        return x;
    }

    /// <summary>torchvision's center_crop: top = round((H − h) / 2), left = round((W − w) / 2), Python's round (half to even).</summary>
    public static Tensor CenterCrop(Tensor x, int h, int w)
    {
        ArgumentNullException.ThrowIfNull(x);
        var (top, left) = CenterCropOffsets(x.shape[^2], x.shape[^1], h, w);
        return x.narrow(-2, top, h).narrow(-1, left, w);
    }

    /// <summary>The top-left corner of <see cref="CenterCrop"/>'s h × w window in a height × width image.</summary>
    public static (long Top, long Left) CenterCropOffsets(long height, long width, int h, int w) =>
        ((long)Math.Round((height - h) / 2.0, MidpointRounding.ToEven), (long)Math.Round((width - w) / 2.0, MidpointRounding.ToEven));

    /// <summary>
    /// CropRandomizer in training: per image, top = ⌊u·(H − h)⌋ and left = ⌊u'·(W − w)⌋ with u, u' uniform in [0, 1), so the
    /// last offset is never drawn (as in the original).
    /// </summary>
    Tensor RandomCrop(Tensor x, int h, int w)
    {
        long n = x.shape[0], height = x.shape[^2], width = x.shape[^1];
        var tops = (rand(n, generator: CropGenerator) * (height - h)).to(int64).data<long>().ToArray();
        var lefts = (rand(n, generator: CropGenerator) * (width - w)).to(int64).data<long>().ToArray();
        var crops = new List<Tensor>((int)n);
        for (var i = 0; i < n; i++) crops.Add(x.narrow(0, i, 1).narrow(-2, tops[i], h).narrow(-1, lefts[i], w));
        return cat(crops, 0);
    }
}
