using System.Buffers.Binary;
using System.Text.Json;
using DiffPolicy.Cli.Benchmarks;
using DiffPolicy.Policy.Checkpoints;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// Our side of <c>bench sampler --pytorch-reference</c> (the original code itself is not in the repository; the manual
/// command is in docs/sampling.md): the script loads a checkpoint's unet.safetensors into the original
/// ConditionalUnet1D by name (identity key map, strict=True) reading the raw bytes as row-major float32, so the file we
/// write must hold exactly the original's keys, shapes and values in PyTorch's layout, whatever layout the network
/// keeps in memory for inference; and the ratios are the issue's.
/// </summary>
public sealed class PytorchReferenceTests
{
    /// <summary>The tensors of a safetensors file read as the script reads them: header names, shapes and raw little-endian float32.</summary>
    static Dictionary<string, (long[] Shape, float[] Values)> ReadRaw(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, length));
        var data = bytes.AsSpan(8 + length);
        var tensors = new Dictionary<string, (long[], float[])>();
        foreach (var entry in header.RootElement.EnumerateObject().Where(e => e.Name != "__metadata__"))
        {
            Assert.Equal("F32", entry.Value.GetProperty("dtype").GetString());
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt32()).ToArray();
            var values = new float[(offsets[1] - offsets[0]) / 4];
            for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(offsets[0] + 4 * i)..]);
            tensors[entry.Name] = (entry.Value.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray(), values);
        }
        return tensors;
    }

    [Fact]
    public void The_checkpoint_we_write_holds_the_original_state_dict_by_name_in_pytorch_layout()
    {
        // The original's weights (torch.save of its state_dict), loaded and prepared for inference as the loaders do
        // (convolution weights stored (O, k, C) in memory), then written by our checkpoint writer.
        using var network = UnetCheckpoint.Import(Fixtures.Unet("unet_small.state_dict.pt"), Fixtures.Unet("unet_small.config.json"));
        var folder = Directory.CreateTempSubdirectory("eager-keys-").FullName;
        try
        {
            UnetCheckpoint.Save(network, folder);
            var written = ReadRaw(Path.Combine(folder, UnetCheckpoint.WeightsFile));
            var original = StateDictFile.Read(Fixtures.Unet("unet_small.state_dict.pt"));
            try
            {
                Assert.Equal(original.Keys.Order(), written.Keys.Order());
                foreach (var (key, tensor) in original)
                {
                    Assert.Equal(tensor.shape, written[key].Shape);
                    Assert.Equal(tensor.contiguous().data<float>().ToArray(), written[key].Values);
                }
            }
            finally
            {
                foreach (var tensor in original.Values) tensor.Dispose();
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_shipped_checkpoint_has_the_original_key_names()
    {
        // Same levels and FiLM scale as the fixture network: the same state-dict names, other channel counts.
        var shipped = ReadRaw(Path.Combine(RepoPaths.Root, "checkpoints", "pusht", UnetCheckpoint.WeightsFile));
        var original = StateDictFile.Read(Fixtures.Unet("unet_small.state_dict.pt"));
        try
        {
            Assert.Equal(original.Keys.Order(), shipped.Keys.Order());
        }
        finally
        {
            foreach (var tensor in original.Values) tensor.Dispose();
        }
    }

    [Fact]
    public void The_script_ships_in_the_assembly_imports_the_original_from_dp_src_and_loads_strictly()
    {
        var script = PytorchReference.ScriptText();
        Assert.Contains("from diffusion_policy.model.diffusion.conditional_unet1d import ConditionalUnet1D", script, StringComparison.Ordinal);
        Assert.Contains("load_state_dict(weights, strict=True)", script, StringComparison.Ordinal);
        Assert.Contains("KEY_MAP = {}", script, StringComparison.Ordinal);   // identity, as the test above requires
        var arguments = PytorchReference.Arguments("s.py", "/src", "/ckpt", "c.npy", "o.json", [1, 2], 5, 1);
        Assert.Equal(["s.py", "/src", "/ckpt", "c.npy", "o.json", "--threads", "1,2", "--chunks", "5", "--warmup", "1"], arguments);
    }

    [Fact]
    public void Ratios_divide_by_the_fastest_eager_median_and_apply_the_issue_goals()
    {
        var eager = new EagerReport("1.13", "original", "148 tensors", 100, 1,
            [new EagerRun(1, [1000], 1000, 1000, 10), new EagerRun(2, [2000], 2000, 2000, 20)]);
        SamplerMeasurement M(string method, string scheduler, double median, double p99) => new(
            "fast", 1, scheduler, 100, method, 10, "warm", 2, 0.1, median, p99, 0, 18, 150, 1, 0, 0, 0, 0, 0);
        var ratios = PytorchReference.Ratios(
            [M("ParaDiGMS", "DDPM", 50, 60), M("ParaDiGMS", "DDPM", 50, 61), M("ParaDiGMS", "DDIM", 10, 10), M("sequential", "DDPM", 900, 950)], eager);
        Assert.Equal(3, ratios.Count);   // DDIM is not the eager chunk's sampler
        Assert.Equal(0.05, ratios[0].MedianRatio, 12);
        Assert.Equal(0.06, ratios[0].P99Ratio, 12);
        Assert.True(ratios[0].Met);
        Assert.False(ratios[1].Met);     // p99 0.061×
        Assert.False(ratios[2].Met);
        Assert.Equal(0.9, ratios[2].MedianRatio, 12);
    }

    /// <summary>
    /// A small U-Net counted by hand: input 2, down_dims [4, 8], kernel 3, horizon 8 (levels at T = 8 and 4), FiLM encoders
    /// and biases left out. 2 · C_out · C_in · k per output position:
    /// down 0 (T 8): 4·2·3 + 4·4·3 + residual 4·2·1 + 4·4·3 + 4·4·3 = 24 + 48 + 8 + 48 + 48 = 176 → ×2×8 = 2,816;
    /// its Downsample1d 4·4·3 at 4 positions → 2·48·4 = 384;
    /// down 1 (T 4): 8·4·3 + 8·8·3 + 8·4 + 8·8·3 + 8·8·3 = 96 + 192 + 32 + 192 + 192 = 704 → ×2×4 = 5,632;
    /// mid (T 4): 4 convolutions 8·8·3 = 768 → ×2×4 = 6,144;
    /// up 0 (T 4): 4·16·3 + 4·4·3 + residual 4·16 + 4·4·3 + 4·4·3 = 192 + 48 + 64 + 48 + 48 = 400 → ×2×4 = 3,200;
    /// its Upsample1d (transposed, 4·4·4 weights) over 4 input positions → 2·64·4 = 512;
    /// final (T 8): 4·4·3 + 2·4·1 = 56 → ×2×8 = 896.  Total 19,584.
    /// </summary>
    [Fact]
    public void Multiply_adds_per_row_of_a_small_unet_counted_by_hand()
    {
        using var network = new DiffPolicy.Policy.Network.ConditionalUnet1D(new DiffPolicy.Policy.Network.ConditionalUnet1DConfig
        {
            InputDim = 2,
            GlobalCondDim = 6,
            DiffusionStepEmbedDim = 8,
            DownDims = [4, 8],
            KernelSize = 3,
            NGroups = 2,
            CondPredictScale = true,
            Horizon = 8,
        });
        var shapes = network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(19_584, NetworkArithmetic.FlopsPerRow(shapes, 8));
    }
}
