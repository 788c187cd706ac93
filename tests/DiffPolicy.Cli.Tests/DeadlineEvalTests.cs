using System.Text.Json;
using DiffPolicy.Cli.Commands;
using DiffPolicy.Cli.Evaluation;
using DiffPolicy.Cli.Serving;
using DiffPolicy.Control;
using DiffPolicy.Policy;
using Xunit.Abstractions;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// <c>eval --deadline-ms</c> on a tiny diffusion policy (10 steps, ParaDiGMS P 4) served in process: a deadline no chunk
/// reaches changes nothing; a deadline shorter than one sampler iteration cuts every chunk short (anytime answers, each
/// with its certificate), and the lockstep robot still runs every episode to its end on them.
/// </summary>
public sealed class DeadlineEvalTests(ITestOutputHelper output) : IDisposable
{
    readonly TinyCheckpoint checkpoint = new();

    public void Dispose() => checkpoint.Dispose();

    static readonly long[] Seeds = [100_000, 100_001];
    const int MaxSteps = 20;

    /// <summary>The seeds' episodes served in process without a deadline, then with <paramref name="deadlineMs"/>.</summary>
    (List<(EpisodeRecord Record, double[] Actions)> Free, List<(EpisodeRecord Record, double[] Actions)> Bounded) WithoutAndWith(double deadlineMs)
    {
        TorchRuntime.SetThreads(1);
        using var diffusion = checkpoint.Load();
        using var policy = new DiffusionChunkPolicy(diffusion);
        return (Run(policy, null), Run(policy, deadlineMs));
    }

    static List<(EpisodeRecord Record, double[] Actions)> Run(IChunkPolicy policy, double? deadlineMs)
    {
        using var runner = new RecordingRunner(ZeroMqEpisodes.Serving(policy, tcp: false, new Execution(DeadlineMs: deadlineMs)));
        return Seeds.Select(seed =>
        {
            runner.Actions.Clear();
            var record = PushTEvaluation.Run(runner, seed, MaxSteps);
            return (record, runner.Actions.ToArray());
        }).ToList();
    }

    [Fact]
    public void A_deadline_no_chunk_reaches_gives_the_episodes_without_a_deadline()
    {
        var (free, bounded) = WithoutAndWith(Protocol.MessageCodec.MaxDeadlineMs);
        for (var i = 0; i < Seeds.Length; i++)
        {
            Assert.Equal(free[i].Actions, bounded[i].Actions);
            Assert.Equal(free[i].Record.Result, bounded[i].Record.Result with { InferenceSeconds = free[i].Record.Result.InferenceSeconds });
            Assert.Equal(0, bounded[i].Record.Result.ChunksCutShort);
            // Every chunk carries its certificate: all 10 steps converged.
            Assert.Equal(10, bounded[i].Record.DenoisingSteps);
            Assert.All(bounded[i].Record.ConvergedSteps!, steps => Assert.Equal(10, steps));
        }
    }

    [Fact]
    public void A_deadline_shorter_than_an_iteration_cuts_or_refuses_every_request_and_the_episodes_still_run()
    {
        var (free, cut) = WithoutAndWith(EvalCommand.MinDeadlineMs);
        for (var i = 0; i < Seeds.Length; i++)
        {
            var result = cut[i].Record.Result;
            // Lockstep executes every chunk and holds a step for every refusal, so the episode runs its steps (or stops at success).
            Assert.True(result.Success || result.Steps == MaxSteps, $"seed {Seeds[i]}: {result.Steps} steps");
            Assert.True(result.Chunks + result.Refused > 0);
            output.WriteLine($"seed {Seeds[i]}: {result.Chunks} chunks cut short, {result.Refused} requests refused");
            Assert.Equal(result.Refused, result.HeldTicks + result.DeadlineMisses);
            // 0.1 ms is less than any sampler iteration: a request taken in is stopped after its one iteration (a chunk
            // needs at least two), one taken in later than that is refused as overloaded (docs/protocol.md §4a).
            Assert.Equal(result.Chunks, result.ChunksCutShort);
            if (result.Chunks > 0)
            {
                Assert.All(cut[i].Record.ConvergedSteps!, steps => Assert.InRange(steps, 1, 9));
                Assert.Equal(1, result.MeanIterations);
            }
            Assert.All(cut[i].Actions, a => Assert.True(double.IsFinite(a)));
            Assert.NotEqual(free[i].Actions, cut[i].Actions);
        }
    }

    [Fact]
    public void A_list_of_deadlines_reports_one_run_per_deadline_on_the_same_seeds()
    {
        var folder = Path.GetDirectoryName(checkpoint.Directory)!;
        var json = Path.Combine(folder, "deadlines.json");
        var settings = new EvalCommand.Settings(
            new PolicySettings(checkpoint.Directory, new SamplingSettings(), Threads: 1), Episodes: 2, MaxSteps: MaxSteps, Json: json,
            DeadlinesMs: [EvalCommand.MinDeadlineMs, null]);
        Assert.Equal(ExitCodes.Done, new EvalCommand().Run(settings));

        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var runs = report.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(2, runs.Count);
        Assert.Equal(EvalCommand.MinDeadlineMs, runs[0].GetProperty("deadline_ms").GetDouble());
        Assert.Equal(JsonValueKind.Null, runs[1].GetProperty("deadline_ms").ValueKind);
        Assert.Equal(runs[0].GetProperty("chunks").GetInt32(), runs[0].GetProperty("chunks_cut_short").GetInt32());
        Assert.True(runs[0].GetProperty("chunks").GetInt32() + runs[0].GetProperty("refused").GetInt32() > 0);
        Assert.Equal(0, runs[1].GetProperty("chunks_cut_short").GetInt32());
        Assert.Equal(0, runs[1].GetProperty("refused").GetInt32());
        Assert.Equal(10, runs[1].GetProperty("converged_steps_min").GetInt32());
        Assert.Equal(10, runs[1].GetProperty("denoising_steps").GetInt32());
        Assert.All(runs, r => Assert.Equal([100_000L, 100_001L], r.GetProperty("per_episode").EnumerateArray().Select(e => e.GetProperty("seed").GetInt64())));
        // Each deadline kept its own progress while it ran; all are gone once the report is complete.
        Assert.Equal([json], Directory.GetFiles(folder, "deadlines.json*"));
    }

    /// <summary>Keeps the executed actions of the episode it runs.</summary>
    sealed class RecordingRunner(IEpisodeRunner inner) : IEpisodeRunner
    {
        public List<double> Actions { get; } = [];

        public string Transport => inner.Transport;

        public EpisodeRun Run(long seed, int maxSteps, Action<Sim.PushT.Env.PushTEnv, Sim.PushT.Physics.Vec2?>? observe)
        {
            var run = inner.Run(seed, maxSteps, observe);
            Actions.AddRange(run.Episode.Steps.SelectMany(s => new[] { s.Action.X, s.Action.Y }));
            return run;
        }

        public void Dispose() => inner.Dispose();
    }
}
