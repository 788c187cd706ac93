using System.Text.Json.Nodes;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// The network against the ORIGINAL PyTorch ConditionalUnet1D: its config, state-dict keys and shapes,
/// and its output on fixed inputs (fixtures/unet/unet_small.*, written by the original code).
/// </summary>
public class ConditionalUnet1DTests
{
    static readonly ReferenceVectors Vectors = ReferenceVectors.Load(Fixtures.Unet("unet_small.vectors.json"));

    [Fact]
    public void Config_round_trips_to_the_original_constructor_arguments()
    {
        var json = File.ReadAllText(Fixtures.Unet("unet_small.config.json"));
        var config = ConditionalUnet1DConfig.FromJson(json);
        Assert.Equal([32, 64, 128], config.DownDims);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), JsonNode.Parse(config.ToJson())), config.ToJson());
    }

    [Fact]
    public void Keys_and_shapes_equal_the_original_state_dict()
    {
        using var network = new ConditionalUnet1D(ConditionalUnet1DConfig.Load(Fixtures.Unet("unet_small.config.json")));
        var ours = network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(Vectors.Keys.Keys.Order(), ours.Keys.Order());
        foreach (var (key, shape) in Vectors.Keys)
            Assert.True(shape.SequenceEqual(ours[key]), key);
        Assert.Equal(1172834, network.parameters().Sum(p => p.numel())); // vectors.json parameter_count
    }

    [Theory]
    [InlineData("unet_small.state_dict.pt")]
    [InlineData("unet_small.safetensors")]
    public void Output_matches_the_original_within_1e_4(string weights)
    {
        using var network = UnetCheckpoint.Import(Fixtures.Unet(weights), Fixtures.Unet("unet_small.config.json"));
        var error = Vectors.MaxAbsError(network);
        Assert.InRange(error, 0, 1e-4);
    }

    [Fact]
    public void Saved_checkpoint_reloads_to_the_same_network()
    {
        var dir = Directory.CreateTempSubdirectory("unet-checkpoint").FullName;
        try
        {
            using var original = UnetCheckpoint.Import(Fixtures.Unet("unet_small.state_dict.pt"), Fixtures.Unet("unet_small.config.json"));
            UnetCheckpoint.Save(original, dir);
            using var reloaded = UnetCheckpoint.Load(dir);
            Assert.Equal(original.Config.ToJson(), reloaded.Config.ToJson());
            foreach (var (key, value) in original.state_dict())
                Assert.True(value.equal(reloaded.state_dict()[key]).all().item<bool>(), key);
            Assert.InRange(Vectors.MaxAbsError(reloaded), 0, 1e-4);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Weights_of_another_configuration_are_rejected_with_every_difference_listed()
    {
        var config = ConditionalUnet1DConfig.Load(Fixtures.Unet("unet_small.config.json")) with { DownDims = [32, 64], KernelSize = 3 };
        using var network = new ConditionalUnet1D(config);
        var error = Assert.Throws<StateDictMismatchException>(() => network.LoadStrict(Fixtures.Unet("unet_small.safetensors")));
        Assert.Empty(error.MissingKeys);
        Assert.Contains("down_modules.2.0.residual_conv.weight", error.UnexpectedKeys);
        Assert.Contains(error.ShapeMismatches, m => m.StartsWith("down_modules.0.0.blocks.0.block.0.weight: file (32, 2, 5) vs network (32, 2, 3)", StringComparison.Ordinal));
        Assert.Contains("unexpected keys", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_state_dict_is_rejected()
    {
        using var network = new ConditionalUnet1D(ConditionalUnet1DConfig.Load(Fixtures.Unet("unet_small.config.json")));
        Assert.Throws<InvalidDataException>(() => network.LoadStrict(Fixtures.Unet("unet_small.vectors.json")));
        Assert.Throws<FileNotFoundException>(() => network.LoadStrict(Fixtures.Unet("unet_small.config.json") + ".absent"));
    }

    [Fact]
    public void Two_level_bias_only_network_has_the_original_layout_and_keeps_shapes()
    {
        var config = new ConditionalUnet1DConfig { InputDim = 3, GlobalCondDim = 10, DiffusionStepEmbedDim = 16, DownDims = [16, 32], KernelSize = 3, NGroups = 4 };
        using var network = new ConditionalUnet1D(config);
        var keys = network.state_dict().Keys.ToHashSet();
        Assert.Contains("down_modules.0.2.conv.weight", keys);
        Assert.DoesNotContain("down_modules.1.2.conv.weight", keys); // last level: Identity
        Assert.Contains("up_modules.0.2.conv.weight", keys);        // every up level upsamples
        Assert.Equal([32, 10 + 16], network.state_dict()["mid_modules.0.cond_encoder.1.weight"].shape); // bias-only FiLM: out channels
        using var output = network.call(randn(4, 8, 3), tensor(new long[] { 0, 5, 50, 99 }), randn(4, 10));
        Assert.Equal([4L, 8, 3], output.shape);
    }

    [Fact]
    public void A_new_network_starts_like_PyTorch_with_unit_group_norms_and_finite_output()
    {
        using var network = new ConditionalUnet1D(new ConditionalUnet1DConfig { InputDim = 2, GlobalCondDim = 40, DiffusionStepEmbedDim = 128, DownDims = [64, 128, 256], KernelSize = 5, CondPredictScale = true });
        foreach (var (key, value) in network.state_dict().Where(kv => kv.Key.Contains(".block.1.", StringComparison.Ordinal)))
            Assert.True(value.equal(key.EndsWith("weight", StringComparison.Ordinal) ? ones_like(value) : zeros_like(value)).all().item<bool>(), key);
        using var output = network.call(randn(3, 16, 2), tensor(new long[] { 0, 50, 99 }), randn(3, 40));
        Assert.True(isfinite(output).all().item<bool>());
    }

    [Fact]
    public void Wrong_input_shapes_are_rejected()
    {
        using var network = new ConditionalUnet1D(ConditionalUnet1DConfig.Load(Fixtures.Unet("unet_small.config.json")));
        Assert.Throws<ArgumentException>(() => network.call(randn(2, 16, 3), tensor(new long[] { 1, 2 }), randn(2, 36)));
        Assert.Throws<ArgumentException>(() => network.call(randn(2, 14, 2), tensor(new long[] { 1, 2 }), randn(2, 36)));
        Assert.Throws<ArgumentException>(() => network.call(randn(2, 16, 2), tensor(new long[] { 1 }), randn(2, 36)));
        Assert.Throws<ArgumentException>(() => network.call(randn(2, 16, 2), tensor(new long[] { 1, 2 }), randn(2, 35)));
        Assert.Throws<InvalidDataException>(() => new ConditionalUnet1D(new ConditionalUnet1DConfig { InputDim = 2, GlobalCondDim = 4, DownDims = [30] }));
    }
}
