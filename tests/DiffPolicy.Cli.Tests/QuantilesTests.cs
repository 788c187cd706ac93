using DiffPolicy.Cli.Commands;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Schedulers;

namespace DiffPolicy.Cli.Tests;

/// <summary>The one quantile rule and the bench's schedulers from the one factory.</summary>
public sealed class QuantilesTests
{
    /// <summary>
    /// Reference values from numpy 1.24.2, <c>numpy.percentile(v, q)</c> with its default (linear) method, printed by
    /// <c>python3 -c "import numpy as np; print([float(np.percentile([12.5, 3.0, 7.25, 101.0, 0.5, 44.0, 9.75], q)) for q in (0, 10, 50, 90, 95, 99, 100)])"</c>.
    /// </summary>
    [Theory]
    [InlineData(0.00, 0.5)]
    [InlineData(0.10, 2.0)]
    [InlineData(0.50, 9.75)]
    [InlineData(0.90, 66.80000000000001)]
    [InlineData(0.95, 83.89999999999996)]
    [InlineData(0.99, 97.57999999999997)]
    [InlineData(1.00, 101.0)]
    public void R7_matches_numpys_default_percentile(double tau, double numpy)
    {
        double[] values = [12.5, 3.0, 7.25, 101.0, 0.5, 44.0, 9.75];
        Assert.Equal(numpy, Quantiles.R7(values, tau), 12);
        Assert.Equal(numpy, SampleQuantiles.R7(values, 100 * tau), 12);
    }

    /// <summary>numpy.percentile([4.0, 1.0], (25, 50, 95)) = 1.75, 2.5, 3.85; an empty list reads as 0 in reports.</summary>
    [Fact]
    public void R7_of_two_values_interpolates_and_of_none_is_zero()
    {
        Assert.Equal(1.75, Quantiles.R7([4.0, 1.0], 0.25), 12);
        Assert.Equal(2.5, Quantiles.R7([4.0, 1.0], 0.5), 12);
        Assert.Equal(3.85, Quantiles.R7([4.0, 1.0], 0.95), 12);
        Assert.Equal(0, Quantiles.R7([], 0.5));
    }

    static BenchSamplerCommand.Settings Bench((SolverKind, int)[] schedulers) => new(
        null, [16, 32], 16, 3, 36, 16, 2, 1, 1, 0, [4], 0.1, [true], [1], [1], schedulers, 0, null, null, [NetworkBackend.Fast]);

    [Fact]
    public void Bench_sampler_keeps_the_checkpoints_scheduler_config_and_varies_only_solver_and_steps()
    {
        var stored = new NoiseSchedulerConfig { NumTrainTimesteps = 50, PredictionType = PredictionType.Sample, ClipSample = false, InferenceSteps = 7 };
        var configs = BenchSamplerCommand.SchedulerConfigs(stored, Bench([(SolverKind.Ddpm, 50), (SolverKind.Ddim, 0), (SolverKind.DpmSolver, 10)]));
        Assert.Equal([SolverKind.Ddpm, SolverKind.DpmSolver], configs.Select(c => c.Solver));
        Assert.Equal([50, 10], configs.Select(c => c.InferenceSteps));
        Assert.All(configs, c => Assert.Equal((50, PredictionType.Sample, false), (c.NumTrainTimesteps, c.PredictionType, c.ClipSample)));
    }

    [Fact]
    public void Bench_sampler_refuses_more_steps_than_the_checkpoint_was_trained_with_naming_the_option()
    {
        var stored = new NoiseSchedulerConfig { NumTrainTimesteps = 50 };
        var e = Assert.Throws<CliInputException>(() => BenchSamplerCommand.SchedulerConfigs(stored, Bench([(SolverKind.Ddim, 100)])));
        Assert.Equal("--ddim-steps", e.Subject);
    }
}
