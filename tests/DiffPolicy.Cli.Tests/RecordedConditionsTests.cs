using DiffPolicy.Cli.Benchmarks;
using DiffPolicy.Data;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Tests;

/// <summary><c>bench sampler --observations</c>: windows of consecutive observations from one episode, normalised.</summary>
public sealed class RecordedConditionsTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("recorded-").FullName;

    static readonly PolicyConfig Config = new()
    {
        ObsDim = 18,
        ActionDim = 2,
        Model = new ConditionalUnet1DConfig { InputDim = 2, GlobalCondDim = 36, DiffusionStepEmbedDim = 16, DownDims = [16, 32], KernelSize = 3 },
    };

    // Maps [0, 512] to [−1, 1]: observation value v becomes v/256 − 1.
    static readonly LinearNormalizer Normalizer = LinearNormalizer.FitLimits([.. Enumerable.Repeat(0f, 18), .. Enumerable.Repeat(512f, 18)], 18);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Episodes of the given lengths; every value of step s (counted over all episodes) is s.</summary>
    string Recording(int width, params int[] lengths)
    {
        var steps = lengths.Sum();
        var obs = new float[steps * width];
        for (var s = 0; s < steps; s++) obs.AsSpan(s * width, width).Fill(s);
        var ends = lengths.Select((_, e) => (long)lengths.Take(e + 1).Sum()).ToArray();
        var path = Path.Combine(directory, $"rec{width}.npz");
        Npz.Save(path, new Dictionary<string, NpyArray>
        {
            ["keypoint"] = new(obs, steps, width),
            ["episode_ends"] = new(ends, ends.Length),
        });
        return path;
    }

    [Fact]
    public void Windows_are_consecutive_steps_of_one_episode_normalised()
    {
        // Episode 0: steps 0–2 (windows ending at 1 and 2); episode 1: step 3 alone (too short for n_obs_steps = 2).
        var conditions = new RecordedConditions(Recording(18, 3, 1), Config, Normalizer);
        using var generator = new Generator(1);
        using var cond = conditions.Draw(200, generator);
        Assert.Equal([200L, 36], cond.shape);
        var values = cond.data<float>().ToArray();
        var lastSteps = new HashSet<int>();
        for (var row = 0; row < 200; row++)
        {
            var window = values.AsSpan(row * 36, 36).ToArray().Select(v => (double)(v + 1) * 256).ToArray();
            var first = (int)Math.Round(window[0]);
            Assert.All(window.Take(18), v => Assert.Equal(first, v, 3));
            Assert.All(window.Skip(18), v => Assert.Equal(first + 1, v, 3));
            lastSteps.Add(first + 1);
        }
        Assert.Equal([1, 2], lastSteps.Order());
    }

    [Fact]
    public void A_recording_of_another_observation_size_is_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => new RecordedConditions(Recording(20, 5), Config, Normalizer));
        Assert.Contains("obs_dim 18", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => new RecordedConditions(Recording(18, 1, 1), Config, Normalizer));
    }
}
