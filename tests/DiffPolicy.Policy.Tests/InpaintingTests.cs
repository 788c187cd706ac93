using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Sampling;
using DiffPolicy.Policy.Schedulers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// Inpainting (real-time chunking by replacement) on the original network's weights (fixtures/unet): ParaDiGMS at
/// τ = 0 must reproduce the sequential sampler doing the same inpainting, fully weighted positions must end exactly on
/// the known actions, and zero weights must change nothing.
/// </summary>
public sealed class InpaintingTests(ITestOutputHelper output) : UnetSamplingFixture
{
    /// <summary>
    /// Sample 0: positions 1–4 frozen, 5–7 with the soft weights of <see cref="ChunkPrior.DefaultWeights"/>; sample 1
    /// free; sample 2: position 0 half-weighted. Known actions in [−1, 1] from their own generator.
    /// </summary>
    Inpainting Prior(int horizon, int dim)
    {
        using var generator = new Generator(77);
        var known = rand([3, horizon, dim], generator: generator) * 2 - 1;
        var weights = zeros(3, horizon);
        var soft = ChunkPrior.DefaultWeights(7, 4);
        for (var i = 0; i < soft.Length; i++) weights[0, 1 + i] = soft[i];
        weights[2, 0] = 0.5f;
        return new Inpainting(known, weights);
    }

    [Theory]
    [InlineData("ddpm", 100, 16, 1, true)]
    [InlineData("ddpm", 100, 8, 2, true)]
    [InlineData("ddpm", 100, 16, 1, false)]
    [InlineData("dpm_solver", 20, 8, 1, true)]
    public void Paradigms_at_zero_tolerance_equals_sequential_sampling_with_the_same_inpainting(string kind, int steps, int window, int workers, bool warmStart)
    {
        using var scope = NewDisposeScope();
        using var scheduler = Create(kind, steps);
        var sequential = new DiffusionSampler(Network, scheduler, new SamplerOptions { Method = SamplerMethod.Sequential });
        var paradigms = new DiffusionSampler(Network, scheduler, new SamplerOptions { Window = window, Tolerance = 0, Workers = workers, WarmStart = warmStart });
        var cond = Condition(3, 7);
        using var generator = new Generator(42);
        using var noise = sequential.DrawNoise(3, generator);
        using var inpainting = Prior(sequential.Horizon, sequential.ActionDim);

        using var free = sequential.Sample(cond, noise);
        using var expected = sequential.Sample(cond, noise, inpainting);
        using var actual = paradigms.Sample(cond, noise, inpainting);
        double difference = (expected.Trajectory - actual.Trajectory).abs().max().item<float>();
        double scale = Math.Max(1, expected.Trajectory.abs().max().item<float>());
        double moved = (expected.Trajectory[0] - free.Trajectory[0]).abs().max().item<float>();
        output.WriteLine($"{kind} {steps} steps, P={window}, {workers} workers, warm {warmStart}: max |Δ| = {difference:E2}, inpainting moved sample 0 by {moved:F3}, {actual.Stats.Iterations} iterations");
        Assert.InRange(difference, 0, 1e-5 * scale);
        Assert.True(moved > 1e-2, "the inpainting must change the constrained sample");
    }

    /// <summary>
    /// Known positions must not slow the Picard iteration: a step that blends a position towards a constant is far
    /// from the identity, and summing such steps' drifts carries every guess's error into all later slots (the first
    /// implementation needed 3–5× the iterations). Prior: the free chunk's own actions shifted by n_action_steps = 8,
    /// as a robot would send, positions 0–3 frozen and 4–6 soft, as <see cref="Prior"/>.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Paradigms_needs_about_the_same_iterations_with_inpainting_as_without(bool warmStart)
    {
        using var scope = NewDisposeScope();
        using var scheduler = Create("ddpm", 100);
        var sampler = new DiffusionSampler(Network, scheduler, new SamplerOptions { Window = 10, Tolerance = 0.1, WarmStart = warmStart });
        var cond = Condition(1, 11);
        using var generator = new Generator(5);
        using var noise = sampler.DrawNoise(1, generator);
        using var free = sampler.Sample(cond, noise);
        var horizon = sampler.Horizon;
        var known = zeros(1, horizon, sampler.ActionDim);
        known[0, ..(horizon - 8)] = free.Trajectory[0, 8..];
        var weights = zeros(1, horizon);
        var soft = ChunkPrior.DefaultWeights(7, 4);
        for (var i = 0; i < soft.Length; i++) weights[0, i] = soft[i];
        using var inpainting = new Inpainting(known, weights);

        using var steered = sampler.Sample(cond, noise, inpainting);
        output.WriteLine($"warm {warmStart}: {free.Stats.Iterations} iterations free, {steered.Stats.Iterations} with inpainting");
        Assert.True(steered.Trajectory[0, ..4].eq(known[0, ..4]).all().item<bool>());
        Assert.InRange(steered.Stats.Iterations, 1, free.Stats.Iterations * 5 / 4 + 2);
    }

    [Theory]
    [InlineData(SamplerMethod.Sequential)]
    [InlineData(SamplerMethod.Paradigms)]
    public void Fully_weighted_positions_end_on_the_known_actions_and_free_samples_are_unchanged(SamplerMethod method)
    {
        using var scope = NewDisposeScope();
        using var scheduler = Create("ddpm", 100);
        var sampler = new DiffusionSampler(Network, scheduler, new SamplerOptions { Method = method, Window = 12, Tolerance = 0.1 });
        var cond = Condition(3, 9);
        using var generator = new Generator(3);
        using var noise = sampler.DrawNoise(3, generator);
        using var inpainting = Prior(sampler.Horizon, sampler.ActionDim);

        using var free = sampler.Sample(cond, noise);
        using var steered = sampler.Sample(cond, noise, inpainting);
        // Frozen positions 1–4 of sample 0: x_0 = 0·x + 1·(√1·a + √0·x_T) = a, exactly.
        Assert.True(steered.Trajectory[0, 1..5].eq(inpainting.Known[0, 1..5]).all().item<bool>());
        // Sample 1 has no weight anywhere: the same trajectory as without inpainting (ParaDiGMS accepts per batch,
        // so only the sequential sampler guarantees bit equality; at τ > 0 the free sample may see more iterations).
        double freeDifference = (steered.Trajectory[1] - free.Trajectory[1]).abs().max().item<float>();
        if (method == SamplerMethod.Sequential) Assert.Equal(0, freeDifference);
        else Assert.InRange(freeDifference, 0, 0.05);
    }

    [Fact]
    public void Default_weights_are_one_while_frozen_then_decay_as_real_time_chunking_soft_masks()
    {
        var weights = ChunkPrior.DefaultWeights(7, 4);
        // Black et al. 2025, eq. 5 with H − s = 7, d = 4: c_i = (7 − i)/4 for i = 4, 5, 6.
        double W(double c) => c * (Math.Exp(c) - 1) / (Math.E - 1);
        Assert.Equal([1f, 1f, 1f, 1f], weights[..4]);
        Assert.Equal(W(0.75), weights[4], 6);
        Assert.Equal(W(0.5), weights[5], 6);
        Assert.Equal(W(0.25), weights[6], 6);
        Assert.Equal([1f, 1f], ChunkPrior.DefaultWeights(2, 2));
        Assert.Equal(W(0.75), ChunkPrior.DefaultWeights(3, 0)[0], 6);   // c_0 = 3/4: no frozen row, still below 1
    }

    [Fact]
    public void Bad_priors_are_refused_naming_the_field()
    {
        Assert.Contains("prior_frozen", Assert.Throws<ArgumentException>(() => new ChunkPrior(new float[6], 4).Rows(2, 15)).Message);
        Assert.Contains("prior:", Assert.Throws<ArgumentException>(() => new ChunkPrior(new float[5], 0).Rows(2, 15)).Message);
        Assert.Contains("more than", Assert.Throws<ArgumentException>(() => new ChunkPrior(new float[32], 0).Rows(2, 15)).Message);
        Assert.Contains("prior_weights", Assert.Throws<ArgumentException>(() => new ChunkPrior(new float[4], 1, [1f, 1.5f]).Rows(2, 15)).Message);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => new ChunkPrior([float.NaN, 0], 1).Rows(2, 15)).Message);
        Assert.Equal(3, new ChunkPrior(new float[6], 3).Rows(2, 15));
    }
}
