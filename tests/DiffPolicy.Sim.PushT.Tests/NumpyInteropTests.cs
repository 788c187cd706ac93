using System.Globalization;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Expert;

namespace DiffPolicy.Sim.PushT.Tests;

/// <summary>Our resets and demonstrations against numpy itself.</summary>
public class NumpyInteropTests
{
    [Fact]
    public void Resets_equal_numpys_legacy_draws_for_many_seeds()
    {
        long[] seeds = [.. Enumerable.Range(0, 300).Select(i => (long)i), 100000, 100049, 123456789, 4294967295];
        var script = $$"""
            import numpy as np
            for seed in [{{string.Join(", ", seeds)}}]:
                rs = np.random.RandomState(seed=seed)
                s = [rs.randint(50, 450), rs.randint(50, 450), rs.randint(100, 400), rs.randint(100, 400), rs.randn() * 2 * np.pi - np.pi]
                print(seed, *[repr(float(v)) for v in s])
            """;
        var lines = NumpyPython.Run(script).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(seeds.Length, lines.Length);
        foreach (var line in lines)
        {
            var parts = line.Split(' ');
            var expected = parts[1..].Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(expected, PushTState.Sample(long.Parse(parts[0], CultureInfo.InvariantCulture)).ToArray());
        }
    }

    [Fact]
    public void Numpy_reads_the_demonstrations()
    {
        var set = new DemonstrationSet();
        var steps = 0;
        foreach (var seed in new long[] { 11, 12 })
        {
            var expert = new PushExpert();
            var episode = Episode.Run(seed, expert.Act, 6);
            set.Add(episode);
            steps += episode.Steps.Count;
        }
        var path = Path.Combine(Path.GetTempPath(), $"pusht-numpy-{Guid.NewGuid():N}.npz");
        try
        {
            set.Save(path);
            var output = NumpyPython.Run($$"""
                import numpy as np
                d = np.load(r'{{path}}')
                for k in ['state', 'keypoint', 'action', 'episode_ends']:
                    print(k, d[k].dtype, d[k].shape)
                print('ends', *d['episode_ends'].tolist())
                print('agent', repr(float(d['state'][0, 0])), repr(float(d['keypoint'][0, 8, 0])))
                """);
            Assert.Contains($"state float32 ({steps}, 5)", output, StringComparison.Ordinal);
            Assert.Contains($"keypoint float32 ({steps}, 9, 2)", output, StringComparison.Ordinal);
            Assert.Contains($"action float32 ({steps}, 2)", output, StringComparison.Ordinal);
            Assert.Contains("episode_ends int64 (2,)", output, StringComparison.Ordinal);
            Assert.Contains($"ends 6 {steps}", output, StringComparison.Ordinal);
            var agentX = new PushTEnv(11).State.AgentX.ToString("R", CultureInfo.InvariantCulture);
            Assert.Contains($"agent {agentX}.0 {agentX}.0", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
