using System.Text.Json.Serialization;
using DiffPolicy.Data;

namespace DiffPolicy.Policy.Vision;

/// <summary>One observation the policy reads: its key, its shape without batch and time axes, and its type.</summary>
/// <param name="Type"><c>rgb</c> (shape [3, H, W], values in [0, 1]) or <c>low_dim</c> (shape [D]).</param>
public sealed record ObservationSpec(string Key, IReadOnlyList<int> Shape, string Type)
{
    public const string Rgb = "rgb";
    public const string LowDim = "low_dim";

    [JsonIgnore]
    public bool IsRgb => Type == Rgb;

    [JsonIgnore]
    public int Length => Shape.Aggregate(1, (a, b) => a * b);

    public void Validate()
    {
        if (string.IsNullOrEmpty(Key)) throw new InvalidDataException("an observation needs a key.");
        if (Type is not (Rgb or LowDim)) throw new InvalidDataException($"observation '{Key}': type must be rgb or low_dim, got '{Type}'.");
        if (Shape.Count == 0 || Shape.Any(d => d <= 0)) throw new InvalidDataException($"observation '{Key}': the shape must be positive sizes.");
        if (IsRgb && (Shape.Count != 3 || Shape[0] != 3))
            throw new InvalidDataException($"observation '{Key}': an rgb shape is [3, H, W], got {Shapes.Format(Shape)}.");
        if (!IsRgb && Shape.Count != 1) throw new InvalidDataException($"observation '{Key}': a low_dim shape is [D], got {Shapes.Format(Shape)}.");
    }
}

/// <summary>
/// diffusion_policy's <c>MultiImageObsEncoder</c> arguments, with <c>resize_shape</c> and <c>crop_shape</c> given per rgb
/// key (the original also takes one (h, w) for all). See docs/import.md for the quirks kept.
/// </summary>
public sealed record ObsEncoderConfig
{
    /// <summary>The backbone: only <c>resnet18</c> (torchvision, fc = identity).</summary>
    public string RgbModel { get; init; } = "resnet18";

    /// <summary>Per rgb key, (h, w) of torchvision's tensor Resize (bilinear, no antialias), or none.</summary>
    public IReadOnlyDictionary<string, int[]>? ResizeShape { get; init; }

    /// <summary>Per rgb key, (h, w) of the crop, or none.</summary>
    public IReadOnlyDictionary<string, int[]>? CropShape { get; init; }

    /// <summary>
    /// True: CropRandomizer (random crop when training, centre crop at inference). False: no crop at all — the original
    /// builds a CenterCrop and then overwrites it (kept).
    /// </summary>
    public bool RandomCrop { get; init; } = true;

    /// <summary>
    /// GroupNorm (C/16) in place of BatchNorm in each per-camera backbone. A shared backbone keeps BatchNorm whatever this
    /// says: the original applies the replacement only when it copies the model per camera (kept).
    /// </summary>
    public bool UseGroupNorm { get; init; } = true;

    /// <summary>One backbone for every camera (<c>key_model_map.rgb</c>) instead of one per camera.</summary>
    public bool ShareRgbModel { get; init; }

    /// <summary>(x − ImageNet mean) / std per channel after the crop.</summary>
    public bool ImagenetNorm { get; init; }

    public void Validate(IReadOnlyList<ObservationSpec> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        if (RgbModel != "resnet18") throw new InvalidDataException($"obs_encoder.rgb_model must be resnet18, got '{RgbModel}'.");
        var rgb = observations.Where(o => o.IsRgb).ToList();
        foreach (var (name, shapes) in new[] { ("resize_shape", ResizeShape), ("crop_shape", CropShape) })
        {
            if (shapes is null) continue;
            foreach (var (key, hw) in shapes)
            {
                if (!rgb.Any(o => o.Key == key)) throw new InvalidDataException($"obs_encoder.{name} names '{key}', which is not an rgb observation.");
                if (hw.Length != 2 || hw[0] <= 0 || hw[1] <= 0) throw new InvalidDataException($"obs_encoder.{name}.{key} must be two positive sizes.");
            }
        }
        foreach (var o in rgb)
        {
            var (h, w) = ResizedSize(o);
            if (RandomCrop && CropShape?.TryGetValue(o.Key, out var crop) == true && (crop[0] >= h || crop[1] >= w))
                throw new InvalidDataException($"obs_encoder.crop_shape.{o.Key} ({crop[0]}×{crop[1]}) must be smaller than the image ({h}×{w}), as CropRandomizer asserts.");
        }
        if (ShareRgbModel && rgb.Select(InputSize).Distinct().Count() > 1)
            throw new InvalidDataException("share_rgb_model needs every camera to reach the backbone at the same size (the original concatenates them).");
    }

    /// <summary>Height and width after the resize.</summary>
    public (int H, int W) ResizedSize(ObservationSpec rgb)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        return ResizeShape?.TryGetValue(rgb.Key, out var r) == true ? (r[0], r[1]) : (rgb.Shape[1], rgb.Shape[2]);
    }

    /// <summary>Height and width the backbone sees (after resize and, with random_crop, the crop).</summary>
    public (int H, int W) InputSize(ObservationSpec rgb)
    {
        if (RandomCrop && CropShape?.TryGetValue(rgb.Key, out var c) == true) return (c[0], c[1]);
        return ResizedSize(rgb);
    }

    /// <summary>Features per time step: 512 per camera, then every low_dim value.</summary>
    public static int FeatureDim(IReadOnlyList<ObservationSpec> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        return observations.Sum(o => o.IsRgb ? ResNet18.FeatureDim : o.Length);
    }
}
