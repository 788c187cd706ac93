using DiffPolicy.Policy.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// <see cref="SamplerProfile"/> (bench sampler --profile) counts what the samplers did: one network call per iteration with
/// the chunk's evaluations as rows, no handoff for one worker, no error test for the sequential sampler, phases that
/// fit inside the chunk's wall time, and the same trajectory as without a profile.
/// </summary>
public sealed class SamplerProfileTests : UnetSamplingFixture
{
    [Theory]
    [InlineData(SamplerMethod.Sequential, 1)]
    [InlineData(SamplerMethod.Paradigms, 1)]
    [InlineData(SamplerMethod.Paradigms, 2)]
    public void The_profile_counts_the_calls_and_rows_and_its_phases_fit_in_the_chunk(SamplerMethod method, int workers)
    {
        using var scope = NewDisposeScope();
        using var scheduler = Create("ddpm", 100);
        var options = new SamplerOptions { Method = method, Window = 8, Workers = workers };
        var cond = Condition(1, 5);
        using var plain = new Generator(9);
        var expected = new DiffusionSampler(Network, scheduler, options).Sample(cond, plain);

        var profile = new SamplerProfile();
        var sampler = new DiffusionSampler(Network, scheduler, options) { Profile = profile };
        using var generator = new Generator(9);
        var result = sampler.Sample(cond, generator);

        Assert.True(result.Trajectory.equal(expected.Trajectory).all().item<bool>());
        Assert.Equal(result.Stats.Iterations, profile.Calls);
        Assert.Equal(result.Stats.Evaluations, profile.Rows);
        var phases = Enum.GetValues<SamplerPhase>().Select(profile.Milliseconds).ToArray();
        Assert.All(phases, ms => Assert.True(ms >= 0));
        Assert.True(phases.Sum() <= result.Stats.WallTime.TotalMilliseconds, $"{phases.Sum()} ms of phases in a {result.Stats.WallTime.TotalMilliseconds} ms chunk");
        Assert.True(profile.Milliseconds(SamplerPhase.Network) > 0);
        Assert.True(profile.Milliseconds(SamplerPhase.Conditioning) > 0);
        if (workers == 1) Assert.Equal(0, profile.Milliseconds(SamplerPhase.Handoff));
        if (method == SamplerMethod.Sequential) Assert.Equal(0, profile.Milliseconds(SamplerPhase.ErrorTest));
        else Assert.True(profile.Milliseconds(SamplerPhase.ErrorTest) > 0);

        profile.Reset();
        Assert.Equal(0, profile.Calls);
        Assert.All(Enum.GetValues<SamplerPhase>(), p => Assert.Equal(0, profile.Milliseconds(p)));
    }
}
