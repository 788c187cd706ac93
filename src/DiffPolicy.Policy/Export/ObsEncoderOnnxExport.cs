using System.Globalization;
using System.Text.Json;
using DiffPolicy.Data;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Training;
using DiffPolicy.Policy.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Export;

/// <summary>
/// Writes a <see cref="MultiImageObsEncoder"/> as an ONNX model (opset 17) computing what it computes at inference:
/// one input per observation key, named by the key, of normalised observations, one row per (robot, observation step):
/// rgb (rows, 3, H, W), low_dim (rows, D), float32; output <c>features</c> (rows, feature_dim): 512 per camera in sorted
/// key order, then the low_dim values in sorted key order. <c>rows</c> is dynamic; for a policy it is
/// batch × n_obs_steps, and features.reshape(batch, n_obs_steps · feature_dim) is the U-Net's <c>global_cond</c>.
/// Inside the graph, per camera: the resize (torch's bilinear, align_corners false, no antialias, as two MatMuls), the eval-mode centre crop, the
/// ImageNet normalisation, as the checkpoint configures them; then ResNet-18 with BatchNorm (running statistics) or
/// GroupNorm, as the state dict has it. The LinearNormalizer of every key is the caller's (its scale and offset are in
/// the model metadata). Weights are initializers under the encoder's state-dict keys (<c>key_model_map.&lt;key&gt;.…</c>).
/// docs/onnx.md.
/// </summary>
public static class ObsEncoderOnnxExport
{
    public const int Opset = OnnxGraph.Opset;

    public const string Output = "features", RowsAxis = "rows";

    /// <summary>The model's bytes for <paramref name="encoder"/> (evaluated as in eval mode, whatever its mode).</summary>
    public static byte[] Serialize(MultiImageObsEncoder encoder, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        using var scope = NewDisposeScope();
        return new Builder(encoder, encoder.state_dict()).Build(metadata ?? new Dictionary<string, string>());
    }

    /// <summary>Writes the model to <paramref name="path"/> atomically (a temporary file, then a rename).</summary>
    public static void Write(MultiImageObsEncoder encoder, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        AtomicFile.WriteAllBytes(path, Serialize(encoder, metadata));
    }

    /// <summary>
    /// What a caller needs to use the model within a policy: <c>n_obs_steps</c>, and per observation key and for
    /// <c>action</c> <c>normalizer.&lt;field&gt;</c> = {"scale": […], "offset": […]} (normalised = x · scale + offset over
    /// rows of len(scale) values; the U-Net's trajectory is normalised actions).
    /// </summary>
    public static Dictionary<string, string> PolicyMetadata(PolicyConfig config, IReadOnlyDictionary<string, LinearNormalizer> normalizers)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(normalizers);
        var metadata = new Dictionary<string, string> { ["n_obs_steps"] = config.NObsSteps.ToString(CultureInfo.InvariantCulture) };
        foreach (var field in PolicyCheckpoint.NormalizerFields(config))
        {
            var normalizer = normalizers[field];
            metadata[$"normalizer.{field}"] = JsonSerializer.Serialize(new { scale = normalizer.Scale, offset = normalizer.Offset });
        }
        return metadata;
    }

    /// <summary>
    /// torch's bilinear interpolation (align_corners false, no antialias) along one axis as an (outputs, inputs) row-major
    /// matrix with the weights of libtorch 2.10's CPU kernel (what our encoder runs): scale = inputs / outputs and
    /// source = max(0, scale · (o + ½) − ½) in float32 with a fused multiply-add, weight 1 − λ on ⌊source⌋ and λ on the
    /// next pixel (the same pixel at the last one). Row o has at most two non-zeros.
    /// </summary>
    internal static float[] BilinearWeights(int inputs, int outputs)
    {
        var weights = new float[outputs * inputs];
        var scale = (float)inputs / outputs;
        for (var o = 0; o < outputs; o++)
        {
            var source = Math.Max(MathF.FusedMultiplyAdd(scale, o + 0.5f, -0.5f), 0f);
            var first = Math.Min((int)source, inputs - 1);
            var next = first < inputs - 1 ? first + 1 : first;
            var lambda = Math.Clamp(source - first, 0f, 1f);
            weights[o * inputs + first] += 1f - lambda;
            weights[o * inputs + next] += lambda;
        }
        return weights;
    }

    static float[] Transpose(float[] matrix, int rows, int columns)
    {
        var transposed = new float[matrix.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++) transposed[c * rows + r] = matrix[r * columns + c];
        return transposed;
    }

    sealed class Builder(MultiImageObsEncoder encoder, IReadOnlyDictionary<string, Tensor> stateDict) : StateDictGraph(stateDict)
    {
        readonly ObsEncoderConfig config = encoder.Config;

        public byte[] Build(IReadOnlyDictionary<string, string> metadata)
        {
            var specs = encoder.Observations.ToDictionary(o => o.Key, StringComparer.Ordinal);
            foreach (var key in encoder.RgbKeys)
                graph.Input(key, false, RowsAxis, 3L, (long)specs[key].Shape[1], (long)specs[key].Shape[2]);
            foreach (var key in encoder.LowDimKeys) graph.Input(key, false, RowsAxis, (long)specs[key].Shape[0]);

            var features = new List<string>();
            var cameras = encoder.RgbKeys.Count;
            if (config.ShareRgbModel && cameras > 0)
            {
                // One backbone on all cameras' rows at once, (K·rows, 512), then each row's cameras side by side.
                var images = encoder.RgbKeys.Select(k => Transform(specs[k])).ToArray();
                var stacked = cameras == 1 ? images[0] : graph.Node("Concat", images, ("axis", 0L));
                var feature = Backbone("key_model_map.rgb", stacked);
                var perCamera = graph.Node("Reshape", [feature, Constant($"shape_{cameras}_-1_{ResNet18.FeatureDim}", cameras, -1, ResNet18.FeatureDim)]);
                var perRow = graph.Node("Transpose", [perCamera], ("perm", new long[] { 1, 0, 2 }));
                features.Add(graph.Node("Reshape", [perRow, Constant($"shape_-1_{cameras * ResNet18.FeatureDim}", -1, cameras * ResNet18.FeatureDim)]));
            }
            else
            {
                features.AddRange(encoder.RgbKeys.Select(k => Backbone($"key_model_map.{k}", Transform(specs[k]))));
            }
            features.AddRange(encoder.LowDimKeys);
            var output = features.Count == 1 ? features[0] : graph.Node("Concat", [.. features], ("axis", 1L));
            graph.Output(output, Output, RowsAxis, (long)encoder.FeatureDim);

            var inputs = encoder.RgbKeys.Select(k => $"{k} ({RowsAxis}, {string.Join(", ", specs[k].Shape)}) float32")
                .Concat(encoder.LowDimKeys.Select(k => $"{k} ({RowsAxis}, {specs[k].Shape[0]}) float32"));
            var description = new Dictionary<string, string>(metadata)
            {
                ["obs_encoder"] = JsonSerializer.Serialize(config, SnakeCaseJson.Options),
                ["observations"] = JsonSerializer.Serialize(encoder.Observations, SnakeCaseJson.Options),
                ["inputs"] = "normalised observations: " + string.Join("; ", inputs),
                ["outputs"] = $"{Output} ({RowsAxis}, {encoder.FeatureDim}) float32",
            };
            return graph.Serialize("MultiImageObsEncoder",
                "DiffusionPolicy MultiImageObsEncoder (ResNet-18 per camera + low_dim keys), eval mode, exported by diffpolicy; see docs/onnx.md.", description);
        }

        /// <summary>One camera's (rows, 3, H, W) → resize → centre crop → ImageNet normalisation, as the encoder's Transform in eval mode.</summary>
        string Transform(ObservationSpec spec)
        {
            var x = spec.Key;
            if (config.ResizeShape?.TryGetValue(spec.Key, out var size) == true)
            {
                // (h, H) · x · (W, w): torch's interpolation weights as matrices, not ONNX Resize, whose linear mode in ONNX
                // Runtime 1.31.1 differs from torch's by up to 2e-5 per pixel (docs/onnx.md).
                int height = spec.Shape[1], width = spec.Shape[2];
                var alongWidth = Floats($"resize_{spec.Key}_width", [width, size[1]], Transpose(BilinearWeights(width, size[1]), size[1], width));
                var alongHeight = Floats($"resize_{spec.Key}_height", [size[0], height], BilinearWeights(height, size[0]));
                x = graph.Node("MatMul", [alongHeight, graph.Node("MatMul", [x, alongWidth])]);
            }
            if (config.RandomCrop && config.CropShape?.TryGetValue(spec.Key, out var crop) == true)
            {
                var (height, width) = config.ResizedSize(spec);
                var (top, left) = MultiImageObsEncoder.CenterCropOffsets(height, width, crop[0], crop[1]);
                x = graph.Node("Slice", [x, Constant($"crop_starts_{top}_{left}", top, left), Constant($"crop_ends_{top + crop[0]}_{left + crop[1]}", top + crop[0], left + crop[1]),
                    Axes(2, 3)]);
            }
            if (config.ImagenetNorm)
            {
                var mean = Floats("imagenet_mean", [1, 3, 1, 1], MultiImageObsEncoder.ImagenetMean);
                var std = Floats("imagenet_std", [1, 3, 1, 1], MultiImageObsEncoder.ImagenetStd);
                x = graph.Node("Div", [graph.Node("Sub", [x, mean]), std]);
            }
            return x;
        }

        /// <summary>torchvision's ResNet-18 with fc = identity: (n, 3, h, w) → (n, 512).</summary>
        string Backbone(string prefix, string x)
        {
            var h = graph.Node("Relu", [Norm(prefix + ".bn1", Conv(prefix + ".conv1", x, 3, 64, [7, 7], 2, 3, bias: false), 64)]);
            h = graph.Node("MaxPool", [h], ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }));
            var channels = 64;
            foreach (var (layer, outputs, stride) in new[] { (1, 64, 1), (2, 128, 2), (3, 256, 2), (4, 512, 2) })
            {
                h = BasicBlock($"{prefix}.layer{layer}.0", h, channels, outputs, stride);
                h = BasicBlock($"{prefix}.layer{layer}.1", h, outputs, outputs, 1);
                channels = outputs;
            }
            return graph.Node("Flatten", [graph.Node("GlobalAveragePool", [h])], ("axis", 1L));
        }

        string BasicBlock(string prefix, string x, int inputs, int outputs, int stride)
        {
            var h = graph.Node("Relu", [Norm(prefix + ".bn1", Conv(prefix + ".conv1", x, inputs, outputs, [3, 3], stride, 1, bias: false), outputs)]);
            h = Norm(prefix + ".bn2", Conv(prefix + ".conv2", h, outputs, outputs, [3, 3], 1, 1, bias: false), outputs);
            var identity = stride != 1 || inputs != outputs
                ? Norm(prefix + ".downsample.1", Conv(prefix + ".downsample.0", x, inputs, outputs, [1, 1], stride, 0, bias: false), outputs)
                : x;
            return graph.Node("Relu", [graph.Node("Add", [h, identity])]);
        }

        /// <summary>BatchNorm2d with its running statistics (ε 1e-5) when the state dict has them, else GroupNorm (C/16 groups).</summary>
        string Norm(string prefix, string x, int channels)
        {
            if (!Has(prefix + ".running_mean")) return GroupNorm(prefix, x, channels, channels / 16, spatialAxes: 2);
            return graph.Node("BatchNormalization",
                [x, Weight(prefix + ".weight", channels), Weight(prefix + ".bias", channels), Weight(prefix + ".running_mean", channels), Weight(prefix + ".running_var", channels)],
                ("epsilon", 1e-5f));
        }
    }
}
