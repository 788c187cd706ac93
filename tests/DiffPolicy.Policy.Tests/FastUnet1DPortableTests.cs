using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Network.Fast;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// The fast forward's other paths against TorchSharp: the portable kernels a CPU without AVX-512 runs (switched on
/// here by hand), and shapes the PushT network never has — channel counts that are not multiples of 16 or 32,
/// bias-only FiLM, an odd action dimension, kernel 3, two levels. Not parallel: the switch is process-wide.
/// </summary>
[Collection(nameof(GlobalGeneratorTests))]
public sealed class FastUnet1DPortableTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void Odd_shapes_and_the_portable_kernels_match_TorchSharp(bool vector512, bool predictScale)
    {
        var saved = Gemm.UseVector512;
        try
        {
            Gemm.UseVector512 = vector512 && saved;
            using var scope = NewDisposeScope();
            using var mode = inference_mode();
            using var generator = new Generator(17);
            var config = new ConditionalUnet1DConfig
            {
                InputDim = 3,
                GlobalCondDim = 5,
                DiffusionStepEmbedDim = 8,
                DownDims = [8, 24, 40],
                KernelSize = 3,
                NGroups = 8,
                CondPredictScale = predictScale,
            };
            manual_seed(23);   // the initial weights come from the global generator (this collection runs alone)
            using var network = new ConditionalUnet1D(config);
            // Weights away from PyTorch's initialisation (GroupNorm γ = 1, β = 0) so that every parameter matters.
            using (no_grad())
                foreach (var parameter in network.parameters()) parameter.add_(randn(parameter.shape, generator: generator) * 0.1);
            network.eval();
            using var fast = FastUnet1D.FromNetwork(network);
            // Horizons of at least 2 positions at the third level: with one, GroupNorm normalises 5 values and float32
            // rounding is amplified for any implementation (seen: 8e-5 between TorchSharp and us for some weights).
            foreach (var (rows, horizon) in new[] { (1, 8), (7, 12), (3, 16) })
            {
                var sample = randn([rows, horizon, 3], generator: generator);
                var timestep = randint(0, 100, [rows], int64, generator: generator);
                var cond = randn([rows, 5], generator: generator);
                var expected = network.call(sample, timestep, cond);
                using var conditioning = fast.Condition(timestep, cond);
                double difference = (fast.Denoise(sample, conditioning) - expected).abs().max().item<float>();
                output.WriteLine($"AVX-512 {Gemm.UseVector512}, scale {predictScale}, {rows} rows, horizon {horizon}: max |Δ| = {difference:E2}, max |y| = {expected.abs().max().item<float>():F2}");
                Assert.InRange(difference, 0, 1e-5);
            }
        }
        finally
        {
            Gemm.UseVector512 = saved;
        }
    }
}
