using DiffPolicy.Data;
using DiffPolicy.Policy.Export;
using DiffPolicy.Policy.Import;
using DiffPolicy.Policy.Training;
using DiffPolicy.Policy.Vision;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>The upstream image_pusht checkpoint (tests/fixtures/dp), imported once for the tests of this class.</summary>
public sealed class ImportedImageCheckpoint : IDisposable
{
    public ImportedPolicy Policy { get; } = DiffusionPolicyImporter.Read(Fixtures.Dp("image_pusht.ckpt"));

    public MultiImageObsEncoder Encoder => Policy.Encoder!;

    public void Dispose() => Policy.Dispose();
}

/// <summary>
/// The exported observation encoder run by ONNX Runtime (an independent implementation of every operator) against our
/// TorchSharp <see cref="MultiImageObsEncoder"/> in eval mode with the same weights, on normalised observations as the
/// policy hands them to the encoder: the imported upstream checkpoint (GroupNorm per camera, centre crop 84×84, ImageNet
/// normalisation), also against the original PyTorch encoder's features in its golden file; and two configurations built
/// here with perturbed weights: a shared BatchNorm backbone over two cameras resized to one size, and GroupNorm per
/// camera with an upsampling resize and no crop.
/// </summary>
public sealed class ObsEncoderOnnxExportTests(ImportedImageCheckpoint imported, ITestOutputHelper output) : IClassFixture<ImportedImageCheckpoint>
{
    [Fact]
    public void Onnx_Runtime_matches_the_imported_encoder_at_batch_1_and_more()
    {
        var encoder = imported.Encoder;
        using var session = Session(ObsEncoderOnnxExport.Serialize(encoder));
        Assert.Equal(["image", "agent_pos"], session.InputMetadata.Keys);
        Assert.Equal([-1, 3, 96, 96], session.InputMetadata["image"].Dimensions);
        Assert.Equal([-1, 514], session.OutputMetadata[ObsEncoderOnnxExport.Output].Dimensions);
        foreach (var rows in new[] { 1, 4 })
        {
            // Raw observations as a robot sends them (image in [0, 1], agent_pos within the range the normaliser was fitted on),
            // normalised as the policy does.
            using var generator = new Generator((ulong)rows);
            var observations = new Dictionary<string, float[]>
            {
                ["image"] = rand([rows, 3, 96, 96], generator: generator).data<float>().ToArray(),
                ["agent_pos"] = InRange(imported.Policy.Normalizers["agent_pos"].Stats, rand([rows, 2], generator: generator)),
            };
            foreach (var (key, values) in observations) imported.Policy.Normalizers[key].Normalize(values);
            Compare("imported", encoder, session, observations, rows);
        }
    }

    [Fact]
    public void Exported_encoder_reproduces_the_original_features_and_global_cond()
    {
        // tests/fixtures/dp/image_pusht.golden.npz: the original PyTorch policy's encoder features for 2 robots × 2 steps.
        var golden = Npz.Load(Fixtures.Dp("image_pusht.golden.npz"));
        var observations = new Dictionary<string, float[]>();
        foreach (var key in new[] { "image", "agent_pos" })
        {
            var values = golden[$"obs.{key}"].ToFloat32();
            imported.Policy.Normalizers[key].Normalize(values);
            observations[key] = values;
        }
        using var session = Session(ObsEncoderOnnxExport.Serialize(imported.Encoder));
        var features = Run(session, imported.Encoder, observations, 4);
        double featureError = features.Zip(golden["features"].ToFloat32(), (a, e) => Math.Abs(a - e)).Max();
        // features (batch · n_obs_steps, 514), row-major, is global_cond (batch, n_obs_steps · 514) without moving a value.
        Assert.Equal([2, 1028], golden["global_cond"].Shape);
        double condError = features.Zip(golden["global_cond"].ToFloat32(), (a, e) => Math.Abs(a - e)).Max();
        output.WriteLine($"max |ONNX Runtime − original PyTorch|: features {featureError:E2}, global_cond {condError:E2}");
        Assert.InRange(featureError, 0, 1e-4);
        Assert.InRange(condError, 0, 1e-4);
    }

    [Theory]
    [InlineData("shared BatchNorm backbone, two cameras resized and cropped")]
    [InlineData("GroupNorm per camera, upsampling resize, no crop")]
    public void Onnx_Runtime_matches_other_encoder_configurations(string name)
    {
        var shared = name.StartsWith("shared", StringComparison.Ordinal);
        ObservationSpec[] observations =
        [
            new("left", [3, 96, 96], ObservationSpec.Rgb),
            new("right", [3, 72, 128], ObservationSpec.Rgb),
            new("pos", [3], ObservationSpec.LowDim),
            new("grip", [1], ObservationSpec.LowDim),
        ];
        var config = shared
            ? new ObsEncoderConfig
            {
                ShareRgbModel = true,
                ResizeShape = new Dictionary<string, int[]> { ["left"] = [80, 88], ["right"] = [80, 88] },
                CropShape = new Dictionary<string, int[]> { ["left"] = [71, 76], ["right"] = [71, 76] },
                ImagenetNorm = true,
            }
            : new ObsEncoderConfig
            {
                ResizeShape = new Dictionary<string, int[]> { ["left"] = [100, 120] },
                CropShape = new Dictionary<string, int[]> { ["left"] = [84, 84] },
                RandomCrop = false,
            };
        using var encoder = new MultiImageObsEncoder(config, observations);
        Perturb(encoder, seed: shared ? 1UL : 2UL);
        encoder.eval();
        var model = ObsEncoderOnnxExport.Serialize(encoder);
        using var session = Session(model);
        Assert.Equal(["left", "right", "grip", "pos"], session.InputMetadata.Keys);
        Assert.Equal(2 * 512 + 4, encoder.FeatureDim);
        foreach (var rows in new[] { 1, 3 })
        {
            using var generator = new Generator((ulong)(rows + 10));
            // Normalised values: images in [−1, 1] (the [0, 1] → [−1, 1] range normaliser), low_dim in [−1, 1].
            var values = observations.ToDictionary(o => o.Key,
                o => (rand([rows, .. o.Shape.Select(d => (long)d)], generator: generator) * 2 - 1).data<float>().ToArray());
            Compare(name, encoder, session, values, rows);
        }
    }

    [Theory]
    [InlineData(96, 120)]
    [InlineData(96, 88)]
    [InlineData(72, 80)]
    [InlineData(128, 88)]
    [InlineData(96, 48)]
    public void The_resize_matrices_hold_torch_bilinear_weights(int inputs, int outputs)
    {
        // torch's interpolate of one-hot columns: column i of the result is row i of the weight matrix transposed.
        using var scope = NewDisposeScope();
        var oneHot = eye(inputs).reshape(1, inputs, 1, inputs);
        var interpolated = nn.functional.interpolate(oneHot, [1, outputs], mode: InterpolationMode.Bilinear, align_corners: false);
        var expected = interpolated[0, .., 0, ..].t().contiguous().data<float>().ToArray();   // (outputs, inputs)
        Assert.Equal(expected, ObsEncoderOnnxExport.BilinearWeights(inputs, outputs));
    }

    [Fact]
    public void The_resize_matrices_reproduce_torch_bilinear_interpolate_on_images()
    {
        // ONNX Runtime 1.31.1's linear Resize differs from torch here by up to 2e-5 per pixel on [−1, 1] images, hence the matrices.
        using var scope = NewDisposeScope();
        using var generator = new Generator(7);
        var x = rand([2, 3, 96, 96], generator: generator) * 2 - 1;
        var expected = nn.functional.interpolate(x, [100, 88], mode: InterpolationMode.Bilinear, align_corners: false);
        var alongHeight = tensor(ObsEncoderOnnxExport.BilinearWeights(96, 100), [100, 96]);
        var alongWidth = tensor(ObsEncoderOnnxExport.BilinearWeights(96, 88), [88, 96]);
        double difference = (matmul(alongHeight, matmul(x, alongWidth.t())) - expected).abs().max().item<float>();
        output.WriteLine($"96×96 → 100×88: max |matrices − torch interpolate| = {difference:E2}");
        Assert.InRange(difference, 0, 1e-6);
    }

    [Fact]
    public void The_onnx_checker_accepts_the_encoder_with_full_shape_inference()
    {
        Assert.Equal("17 ['rows', 3, 96, 96]", OnnxExportTests.Check(path => ObsEncoderOnnxExport.Write(imported.Encoder, path)));
    }

    [Fact]
    public void Initializers_carry_the_encoder_state_dict_keys_and_the_metadata_says_how_to_feed_it()
    {
        var config = imported.Policy.Config;
        var metadata = ObsEncoderOnnxExport.PolicyMetadata(config, imported.Policy.Normalizers);
        using var session = Session(ObsEncoderOnnxExport.Serialize(imported.Encoder, metadata));
        var custom = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("2", custom["n_obs_steps"]);
        var image = System.Text.Json.JsonDocument.Parse(custom["normalizer.image"]).RootElement;
        Assert.Equal(imported.Policy.Normalizers["image"].Scale, image.GetProperty("scale").EnumerateArray().Select(e => e.GetSingle()));
        foreach (var field in new[] { "agent_pos", "action" })
        {
            Assert.Equal(imported.Policy.Normalizers[field].Offset,
                System.Text.Json.JsonDocument.Parse(custom[$"normalizer.{field}"]).RootElement.GetProperty("offset").EnumerateArray().Select(e => e.GetSingle()));
        }
        Assert.Equal("normalised observations: image (rows, 3, 96, 96) float32; agent_pos (rows, 2) float32", custom["inputs"]);

        // Every weight the encoder has (not BatchNorm's step counter) is an initializer under its own key, as the onnx
        // package reads the file's TensorProto names.
        var initializers = OnnxExportTests.Check(path => ObsEncoderOnnxExport.Write(imported.Encoder, path),
            "'\\n'.join(i.name for i in m.graph.initializer if i.name.startswith('key_model_map.'))").Split('\n');
        using var scope = NewDisposeScope();
        var keys = imported.Encoder.state_dict().Keys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        Assert.Contains("key_model_map.image.layer4.1.bn2.weight", initializers);
        Assert.Equal(keys, initializers.Order(StringComparer.Ordinal));
    }

    /// <summary>u (rows, D) uniform in [0, 1) mapped onto each column's fitted [min, max].</summary>
    static float[] InRange(LinearNormalizer.Statistics stats, torch.Tensor u) =>
        (tensor(stats.Min) + u * (tensor(stats.Max) - tensor(stats.Min))).data<float>().ToArray();

    static InferenceSession Session(byte[] model)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        return new InferenceSession(model, options);
    }

    /// <summary>Features of ONNX Runtime against the TorchSharp encoder on the same normalised observations.</summary>
    void Compare(string name, MultiImageObsEncoder encoder, InferenceSession session, IReadOnlyDictionary<string, float[]> observations, int rows)
    {
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var inputs = encoder.Observations.ToDictionary(o => o.Key, o => tensor(observations[o.Key], [rows, .. o.Shape.Select(d => (long)d)]));
        var expected = encoder.call(inputs).data<float>().ToArray();
        var actual = Run(session, encoder, observations, rows);
        double difference = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max(), largest = expected.Max(Math.Abs);
        output.WriteLine($"{name}: {rows} rows: max |ONNX Runtime − TorchSharp| = {difference:E2} (largest |feature| {largest:F2})");
        Assert.InRange(difference, 0, 1e-5);
    }

    static float[] Run(InferenceSession session, MultiImageObsEncoder encoder, IReadOnlyDictionary<string, float[]> observations, int rows)
    {
        using var results = session.Run(encoder.Observations.Select(o =>
            NamedOnnxValue.CreateFromTensor(o.Key, new DenseTensor<float>(observations[o.Key], [rows, .. o.Shape]))).ToList());
        var features = results.Single(r => r.Name == ObsEncoderOnnxExport.Output).AsTensor<float>();
        Assert.Equal([rows, encoder.FeatureDim], features.Dimensions.ToArray());
        return features.ToArray();
    }

    /// <summary>
    /// Seeded weights (the constructor draws from the global generator): convolutions as PyTorch initialises them
    /// (uniform in ±1/√fan_in), norm layers
    /// away from their initial identity (γ near 1, β and running means near 0, running variances in [0.5, 1.5]), so the
    /// export's use of each (and of the right statistics) shows in the features.
    /// </summary>
    static void Perturb(MultiImageObsEncoder encoder, ulong seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator(seed);
        foreach (var (key, value) in encoder.state_dict())
        {
            if (!value.is_floating_point()) continue;
            if (value.dim() == 4) value.copy_((rand(value.shape, generator: generator) * 2 - 1) / Math.Sqrt(value.shape[1] * value.shape[2] * value.shape[3]));
            else if (key.EndsWith("running_var", StringComparison.Ordinal)) value.copy_(rand(value.shape, generator: generator) + 0.5);
            else if (key.EndsWith("weight", StringComparison.Ordinal)) value.copy_(1 + 0.1 * randn(value.shape, generator: generator));
            else value.copy_(0.1 * randn(value.shape, generator: generator));
        }
    }
}
