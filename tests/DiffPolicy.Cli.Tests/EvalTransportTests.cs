using DiffPolicy.Cli.Evaluation;
using DiffPolicy.Cli.Serving;
using DiffPolicy.Control;
using DiffPolicy.Policy;

namespace DiffPolicy.Cli.Tests;

/// <summary>Evaluation through ZeroMQ (the PushT robot in lockstep against a policy server) is the in-process evaluation.</summary>
public sealed class EvalTransportTests : IDisposable
{
    readonly TinyCheckpoint checkpoint = new();

    public void Dispose() => checkpoint.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Direct_and_ZeroMQ_evaluation_give_identical_episodes(bool tcp)
    {
        TorchRuntime.SetThreads(1);
        using var diffusion = checkpoint.Load();
        using var policy = new DiffusionChunkPolicy(diffusion);
        long[] seeds = [100_000, 100_001, 100_002];
        var direct = Evaluate(new DirectEpisodes(policy), seeds);
        var zeroMq = Evaluate(ZeroMqEpisodes.Serving(policy, tcp), seeds);

        for (var i = 0; i < seeds.Length; i++)
        {
            var (d, z) = (direct[i], zeroMq[i]);
            Assert.Equal(d.Result.Score, z.Result.Score);
            Assert.Equal(d.Result.Steps, z.Result.Steps);
            Assert.Equal(d.Result.Chunks, z.Result.Chunks);
            Assert.Equal(d.Actions, z.Actions);
        }
        // The noise is what the seed makes it: the two paths agree because they sample the same noise, not by accident.
        Assert.NotEqual(direct[0].Actions[0], direct[1].Actions[0]);
    }

    internal static (EpisodeResult Result, double[] Actions)[] Evaluate(IEpisodeRunner runner, long[] seeds)
    {
        using (runner)
        {
            return seeds.Select(seed =>
            {
                var actions = new List<double>();
                var record = PushTEvaluation.Run(new Recording(runner, actions), seed, maxSteps: 20);
                return (record.Result, actions.ToArray());
            }).ToArray();
        }
    }

    /// <summary>Keeps the actions of each episode a runner runs.</summary>
    sealed class Recording(IEpisodeRunner inner, List<double> actions) : IEpisodeRunner
    {
        public string Transport => inner.Transport;

        public EpisodeRun Run(long seed, int maxSteps, Action<Sim.PushT.Env.PushTEnv, Sim.PushT.Physics.Vec2?>? observe)
        {
            var run = inner.Run(seed, maxSteps, observe);
            actions.AddRange(run.Episode.Steps.SelectMany(s => new[] { s.Action.X, s.Action.Y }));
            return run;
        }

        public void Dispose()
        {
        }
    }
}
