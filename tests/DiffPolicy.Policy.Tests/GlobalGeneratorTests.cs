using DiffPolicy.Policy.Training;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// Tests that seed libtorch's global generator (this class, <see cref="TrainingRunTests"/>): they run alone, since every
/// other test may draw from it (a resumed training run's loss once differed in CI's full run).
/// </summary>
[CollectionDefinition(nameof(GlobalGeneratorTests), DisableParallelization = true)]
public sealed class GlobalGeneratorCollection;

[Collection(nameof(GlobalGeneratorTests))]
public sealed class GlobalGeneratorTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("warmup-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Warming_up_draws_no_noise_from_the_global_generator()
    {
        var run = new TrainingRun(TrainingRunTests.TinyConfig(), TrainingRunTests.Demonstrations(), Path.Combine(root, "run"));
        run.Run();
        using var policy = DiffusionPolicy.Load(run.PolicyDirectory);
        float[] observations = [100, 200, 0, 0, 101, 201, 0, 1];
        random.manual_seed(11);
        var cold = policy.PredictActions(observations).Actions;
        random.manual_seed(11);
        policy.WarmUp();
        var warm = policy.PredictActions(observations).Actions;
        Assert.Equal(cold, warm);
    }
}
