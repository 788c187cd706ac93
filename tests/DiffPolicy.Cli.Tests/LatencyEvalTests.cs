using DiffPolicy.Cli.Evaluation;
using DiffPolicy.Cli.Serving;
using DiffPolicy.Control;
using DiffPolicy.Policy;
using DiffPolicy.Sim.PushT.Env;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// Latency mode with a real (tiny, random) diffusion policy: d = 0 is the lockstep evaluation, and the same seeds and
/// options give the same episodes run after run, in this process and over ZeroMQ, inpainting included.
/// </summary>
public sealed class LatencyEvalTests : IDisposable
{
    readonly TinyCheckpoint checkpoint = new();

    public void Dispose() => checkpoint.Dispose();

    static readonly long[] Seeds = [100_000, 100_001];

    [Fact]
    public void Latency_zero_gives_exactly_the_lockstep_episodes()
    {
        TorchRuntime.SetThreads(1);
        using var diffusion = checkpoint.Load();
        using var policy = new DiffusionChunkPolicy(diffusion);
        var lockstep = EvalTransportTests.Evaluate(new DirectEpisodes(policy), Seeds);
        var latency = EvalTransportTests.Evaluate(new DirectEpisodes(policy, new Execution(EvalMode.Latency, 0, ChunkSeam.Naive)), Seeds);
        var overZeroMq = EvalTransportTests.Evaluate(ZeroMqEpisodes.Serving(policy, tcp: false, new Execution(EvalMode.Latency, 0, ChunkSeam.Naive)), Seeds);
        for (var i = 0; i < Seeds.Length; i++)
        {
            Assert.Equal(lockstep[i].Actions, latency[i].Actions);
            Assert.Equal(lockstep[i].Result, latency[i].Result with { InferenceSeconds = lockstep[i].Result.InferenceSeconds });
            Assert.Equal(lockstep[i].Actions, overZeroMq[i].Actions);
        }
    }

    [Theory]
    [InlineData(ChunkSeam.Naive)]
    [InlineData(ChunkSeam.Blend)]
    [InlineData(ChunkSeam.Inpaint)]
    public void Latency_mode_is_deterministic_in_process_and_over_ZeroMQ(ChunkSeam seam)
    {
        TorchRuntime.SetThreads(1);
        using var diffusion = checkpoint.Load();
        using var policy = new DiffusionChunkPolicy(diffusion);
        var execution = new Execution(EvalMode.Latency, 3, seam);
        var first = EvalTransportTests.Evaluate(new DirectEpisodes(policy, execution), Seeds);
        var second = EvalTransportTests.Evaluate(new DirectEpisodes(policy, execution), Seeds);
        var overZeroMq = EvalTransportTests.Evaluate(ZeroMqEpisodes.Serving(policy, tcp: false, execution), Seeds);
        var lockstep = EvalTransportTests.Evaluate(new DirectEpisodes(policy), Seeds);
        for (var i = 0; i < Seeds.Length; i++)
        {
            Assert.Equal(first[i].Actions, second[i].Actions);
            Assert.Equal(first[i].Result.Score, second[i].Result.Score);
            Assert.Equal(first[i].Actions, overZeroMq[i].Actions);
            Assert.Equal(3, first[i].Result.HeldTicks);
            // Latency changes what runs: the episode is not the lockstep one.
            Assert.NotEqual(lockstep[i].Actions, first[i].Actions);
        }
    }

    [Fact]
    public void Inpainting_keeps_the_frozen_steps_of_the_plan()
    {
        TorchRuntime.SetThreads(1);
        using var diffusion = checkpoint.Load();
        // A chunk asked with a prior whose first 3 rows are frozen returns those rows (to float32 rounding after
        // normalising and back), whatever the network would have said.
        var window = new float[2 * 18];
        Array.Fill(window, 200f);
        float[] plan = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        using var noise = new TorchSharp.torch.Generator(5);
        var chunk = diffusion.PredictActions(window, 1, noise, default, [new ChunkPrior(plan, 3)]);
        for (var i = 0; i < 6; i++) Assert.Equal(plan[i], chunk.Actions[i], 3);
        Assert.NotEqual(plan[8], chunk.Actions[8], 1);
    }
}
