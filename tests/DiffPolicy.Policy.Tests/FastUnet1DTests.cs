using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Network.Fast;
using DiffPolicy.Policy.Sampling;
using DiffPolicy.Policy.Schedulers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// The fused CPU forward against the TorchSharp network with the same weights (the original's, from
/// fixtures/unet, and the shipped PushT checkpoint) and against the original PyTorch outputs.
/// </summary>
public sealed class FastUnet1DTests(ITestOutputHelper output)
{
    static ConditionalUnet1D Fixture() => UnetCheckpoint.Import(Fixtures.Unet("unet_small.safetensors"), Fixtures.Unet("unet_small.config.json"));

    static ConditionalUnet1D Shipped() =>
        PolicyCheckpoint.Load(Path.Combine(RepoPaths.Root, "checkpoints", "pusht")).Network;

    static (Tensor Sample, Tensor Timestep, Tensor Cond) Inputs(ConditionalUnet1DConfig config, int rows, int horizon, ulong seed)
    {
        using var generator = new Generator(seed);
        return (randn([rows, horizon, config.InputDim], generator: generator),
            randint(0, 100, [rows], int64, generator: generator),
            randn([rows, config.GlobalCondDim], generator: generator));
    }

    static double MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void Output_matches_the_original_PyTorch_network_on_its_vectors()
    {
        using var scope = NewDisposeScope();
        var vectors = ReferenceVectors.Load(Fixtures.Unet("unet_small.vectors.json"));
        using var network = Fixture();
        using var fast = FastUnet1D.FromNetwork(network);
        var sample = tensor(vectors.Sample.Values).reshape(vectors.Sample.Shape);
        var timestep = tensor(vectors.Timestep);
        var cond = tensor(vectors.GlobalCond.Values).reshape(vectors.GlobalCond.Shape);
        var expected = tensor(vectors.Output.Values).reshape(vectors.Output.Shape);
        using var conditioning = fast.Condition(timestep, cond);
        var actual = fast.Denoise(sample, conditioning);
        using (inference_mode())
        {
            var torchOutput = network.call(sample, timestep, cond);
            output.WriteLine($"fast vs original {MaxDifference(actual, expected):E2}, fast vs TorchSharp {MaxDifference(actual, torchOutput):E2}, TorchSharp vs original {MaxDifference(torchOutput, expected):E2}");
            Assert.InRange(MaxDifference(actual, torchOutput), 0, 1e-5);
        }
        Assert.InRange(MaxDifference(actual, expected), 0, 1e-5);
    }

    [Theory]
    [InlineData("fixture", 1, 16)]
    [InlineData("fixture", 10, 16)]
    [InlineData("fixture", 3, 32)]
    [InlineData("fixture", 5, 4)]
    [InlineData("shipped", 1, 16)]
    [InlineData("shipped", 10, 16)]
    [InlineData("shipped", 13, 8)]
    public void Output_matches_TorchSharp_for_any_rows_and_horizon(string weights, int rows, int horizon)
    {
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        using var network = weights == "fixture" ? Fixture() : Shipped();
        using var fast = FastUnet1D.FromNetwork(network);
        var (sample, timestep, cond) = Inputs(network.Config, rows, horizon, (ulong)(rows * 100 + horizon));
        var expected = network.call(sample, timestep, cond);
        using var conditioning = fast.Condition(timestep, cond);
        var difference = MaxDifference(fast.Denoise(sample, conditioning), expected);
        output.WriteLine($"{weights}, {rows} rows, horizon {horizon}: max |Δ| = {difference:E2}, max |y| = {expected.abs().max().item<float>():F2}");
        Assert.InRange(difference, 0, 1e-5);
    }

    [Fact]
    public void Rows_give_the_same_values_alone_in_a_batch_or_on_other_threads()
    {
        using var scope = NewDisposeScope();
        using var network = Fixture();
        using var fast = FastUnet1D.FromNetwork(network);
        var (sample, timestep, cond) = Inputs(network.Config, 9, 16, 3);
        using var conditioning = fast.Condition(timestep, cond);
        var batch = fast.Denoise(sample, conditioning);
        for (var i = 0; i < 9; i += 4)
            Assert.True(fast.Denoise(sample[i..(i + 1)], conditioning.Narrow(i, 1)).equal(batch[i..(i + 1)]).all().item<bool>());

        var outputs = new Tensor[8];
        Parallel.For(0, outputs.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            int first = k % 5, count = 1 + k % 4;
            outputs[k] = fast.Denoise(sample[first..(first + count)], conditioning.Narrow(first, count)).DetachFromDisposeScope();
        });
        for (var k = 0; k < outputs.Length; k++)
        {
            int first = k % 5, count = 1 + k % 4;
            Assert.True(outputs[k].equal(batch[first..(first + count)]).all().item<bool>(), $"call {k}");
            outputs[k].Dispose();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Paradigms_with_zero_tolerance_equals_sequential_sampling_on_the_fast_network(int workers)
    {
        using var scope = NewDisposeScope();
        using var network = Fixture();
        using var fast = FastUnet1D.FromNetwork(network);
        using var schedule = new NoiseSchedule(100);
        using var scheduler = new DdpmScheduler(schedule, 100);
        var sequential = new DiffusionSampler(fast, scheduler, new SamplerOptions { Method = SamplerMethod.Sequential });
        var paradigms = new DiffusionSampler(fast, scheduler, new SamplerOptions { Window = 8, Tolerance = 0, Workers = workers });
        var torchSequential = new DiffusionSampler(network, scheduler, new SamplerOptions { Method = SamplerMethod.Sequential });
        using var generator = new Generator(4);
        var cond = randn([2, network.Config.GlobalCondDim], generator: generator);
        using var noise = sequential.DrawNoise(2, generator);
        using var expected = sequential.Sample(cond, noise);
        using var actual = paradigms.Sample(cond, noise);
        using var torchResult = torchSequential.Sample(cond, noise);
        double difference = MaxDifference(expected.Trajectory, actual.Trajectory), torchDifference = MaxDifference(expected.Trajectory, torchResult.Trajectory);
        output.WriteLine($"ParaDiGMS τ=0 vs sequential (fast): {difference:E2}; fast vs TorchSharp sequential: {torchDifference:E2}");
        Assert.InRange(difference, 0, 1e-5);
        Assert.InRange(torchDifference, 0, 1e-4);
    }

    [Fact]
    public void Bad_inputs_are_rejected()
    {
        using var scope = NewDisposeScope();
        using var network = Fixture();
        using var fast = FastUnet1D.FromNetwork(network);
        var (sample, timestep, cond) = Inputs(network.Config, 2, 16, 1);
        using var conditioning = fast.Condition(timestep, cond);
        Assert.Throws<ArgumentException>(() => fast.Denoise(sample[..1], conditioning));
        Assert.Throws<ArgumentException>(() => fast.Denoise(randn(2, 6, 2), conditioning));
        Assert.Throws<ArgumentException>(() => fast.Condition(timestep, randn(2, 5)));
        Assert.Throws<ArgumentException>(() => fast.Denoise(sample, network.Condition(timestep, cond)));
        var config = network.Config;
        var missing = Assert.Throws<InvalidDataException>(() => new FastUnet1D(config, _ => null));
        Assert.Contains("diffusion_step_encoder.1.weight", missing.Message, StringComparison.Ordinal);
    }
}
