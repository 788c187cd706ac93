using DiffPolicy.Data;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Training;
using TorchSharp;

namespace DiffPolicy.Policy.Tests;

/// <summary>Training runs resume exactly after a hard interruption and produce a usable policy.</summary>
/// <remarks>Training seeds and draws from libtorch's global generator: alone, like the other tests that do.</remarks>
[Collection(nameof(GlobalGeneratorTests))]
public sealed class TrainingRunTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("train-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    internal static PolicyConfig TinyConfig() => new()
    {
        ObsKey = "obs",
        ObsDim = 4,
        ActionDim = 2,
        Horizon = 8,
        NObsSteps = 2,
        NActionSteps = 4,
        Model = new ConditionalUnet1DConfig { InputDim = 2, GlobalCondDim = 8, DiffusionStepEmbedDim = 16, DownDims = [16, 32], KernelSize = 3 },
        Sampler = new Sampling.SamplerOptions { Window = 4 },
        Training = new TrainingConfig { BatchSize = 16, Steps = 12, WarmupSteps = 3, SaveEvery = 4, ValEvery = 4, ValRatio = 0.2 },
    };

    internal static ReplayBuffer Demonstrations(float shift = 0)
    {
        int[] lengths = [30, 25, 40, 35, 30];
        var steps = lengths.Sum();
        var obs = new float[steps * 4];
        var action = new float[steps * 2];
        var ends = new long[lengths.Length];
        var row = 0;
        for (var e = 0; e < lengths.Length; e++)
        {
            for (var t = 0; t < lengths[e]; t++, row++)
            {
                var phase = 0.2 * t + e;
                obs[row * 4] = (float)(100 + 50 * Math.Cos(phase)) + shift;
                obs[row * 4 + 1] = (float)(200 + 30 * Math.Sin(phase));
                obs[row * 4 + 2] = e;
                obs[row * 4 + 3] = t;
                action[row * 2] = (float)(100 + 50 * Math.Cos(phase + 0.2));
                action[row * 2 + 1] = (float)(200 + 30 * Math.Sin(phase + 0.2));
            }
            ends[e] = row;
        }
        return new ReplayBuffer(new Dictionary<string, NpyArray>
        {
            ["obs"] = new(obs, steps, 4),
            ["action"] = new(action, steps, 2),
            ["episode_ends"] = new(ends, lengths.Length),
        });
    }

    sealed class Interrupt(int atStep) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step == atStep) throw new OperationCanceledException("simulated kill");
        }
    }

    static double[] Losses(string logPath) => [.. TrainingLog.Read(logPath).Select(r => r.Loss)];

    [Fact]
    public void A_run_killed_between_saves_resumes_on_the_same_loss_curve()
    {
        var config = TinyConfig();
        var data = Demonstrations();
        var straight = new TrainingRun(config, data, Path.Combine(root, "straight"));
        Assert.Equal(12, straight.Run());

        var interruptedDir = Path.Combine(root, "interrupted");
        Assert.Throws<OperationCanceledException>(() => new TrainingRun(config, data, interruptedDir).Run(new Interrupt(7)));
        Assert.Equal(7, Losses(Path.Combine(interruptedDir, "log.csv")).Length);
        var resumed = new TrainingRun(config, data, interruptedDir);
        Assert.Equal(12, resumed.Run());

        // Bit-identical: the same losses to the last bit (the log writes doubles round-trip) and the same EMA policy bytes.
        double[] expected = Losses(straight.LogPath), actual = Losses(resumed.LogPath);
        Assert.Equal(12, expected.Length);
        Assert.Equal(expected, actual);
        foreach (var file in Directory.GetFiles(straight.PolicyDirectory).Select(Path.GetFileName))
            Assert.Equal(File.ReadAllBytes(Path.Combine(straight.PolicyDirectory, file!)), File.ReadAllBytes(Path.Combine(resumed.PolicyDirectory, file!)));
    }

    /// <summary>Cancels the run while it reports a step: after that step decided not to save (a signal's worst moment).</summary>
    sealed class SignalWhileReporting(int atStep, CancellationTokenSource signal) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step == atStep) signal.Cancel();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public void A_signal_between_saves_saves_the_step_reached_and_the_next_start_resumes_there(int atStep)
    {
        var config = TinyConfig();
        var data = Demonstrations();
        var dir = Path.Combine(root, "signalled");
        using var signal = new CancellationTokenSource();
        Assert.Equal(atStep, new TrainingRun(config, data, dir).Run(new SignalWhileReporting(atStep, signal), cancel: signal.Token));

        var resumed = new TrainingRun(config, data, dir);
        Assert.Equal(atStep, resumed.CheckDirectory()!.Step);
        Assert.True(File.Exists(Path.Combine(resumed.PolicyDirectory, "policy.json")));
        Assert.Equal(12, resumed.Run());
        Assert.Equal(Enumerable.Range(1, 12), TrainingLog.Read(resumed.LogPath).Select(r => r.Step));
    }

    [Fact]
    public void A_training_step_of_the_pusht_network_runs_with_no_collection_inside_it()
    {
        // The PushT network's shape (configs/pusht_keypoints.json): the managed objects of a step (tensor wrappers,
        // AdamW's and the EMA's Scalars) depend on the modules, not on the batch, whose data is native.
        var config = new ConditionalUnet1DConfig { InputDim = 2, GlobalCondDim = 36, Horizon = 16 };
        using var model = new ConditionalUnet1D(config);
        using var shadow = new ConditionalUnet1D(config);
        var ema = new EmaModel(shadow);
        using var optimizer = torch.optim.AdamW(model.parameters(), 1e-4);
        for (var step = 0; step < 3; step++)
        {
            int collectionsBefore = -1, collectionsAfter = -2;
            var held = NoCollection.Run(() =>
            {
                collectionsBefore = GC.CollectionCount(0);
                using var scope = torch.NewDisposeScope();
                var prediction = model.call(torch.randn(8, 16, 2), torch.randint(0, 100, [8]), torch.randn(8, 36));
                var loss = torch.nn.functional.mse_loss(prediction, torch.randn(8, 16, 2));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                collectionsAfter = GC.CollectionCount(0);
            });
            Assert.True(held, $"step {step}: a collection ran inside the step");
            Assert.Equal(collectionsBefore, collectionsAfter);
            Assert.True(NoCollection.Run(() => ema.Step(model, step)));
        }
    }

    [Fact]
    public void A_block_beyond_the_collection_budget_or_inside_another_region_runs_unprotected_without_throwing()
    {
        var kept = new List<byte[]>();
        Assert.False(NoCollection.Run(() =>
        {
            for (var i = 0; i < 128; i++) kept.Add(new byte[1 << 20]);
        }));
        Assert.Equal(128, kept.Count);
        Assert.NotEqual(System.Runtime.GCLatencyMode.NoGCRegion, System.Runtime.GCSettings.LatencyMode);
        kept.Clear();
        GC.Collect();

        var inner = true;
        Assert.True(NoCollection.Run(() => inner = NoCollection.Run(() => { })));
        Assert.False(inner);
        Assert.NotEqual(System.Runtime.GCLatencyMode.NoGCRegion, System.Runtime.GCSettings.LatencyMode);
    }

    [Fact]
    public void Progress_json_is_read_once_per_run_the_check_and_the_resume_share_it()
    {
        var data = Demonstrations();
        var dir = Path.Combine(root, "run");
        var config = TinyConfig() with { Training = TinyConfig().Training with { Steps = 4 } };
        new TrainingRun(config, data, dir).Run();
        var run = new TrainingRun(config with { Training = config.Training with { Steps = 8 } }, data, dir);
        Assert.Equal(4, run.CheckDirectory()!.Step);
        // Damaged after the check: the run goes on from what the check read rather than reading it again.
        File.WriteAllText(Path.Combine(dir, RunState.DirectoryName, RunState.ProgressFile), "{\"Step\": 99");
        Assert.Equal(4, run.CheckDirectory()!.Step);
        Assert.Equal(8, run.Run());
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], TrainingLog.Read(run.LogPath).Select(r => r.Step));
    }

    [Fact]
    public void Resuming_with_another_network_or_training_setting_is_refused()
    {
        var data = Demonstrations();
        var dir = Path.Combine(root, "run");
        new TrainingRun(TinyConfig() with { Training = TinyConfig().Training with { Steps = 4 } }, data, dir).Run();
        var wider = TinyConfig() with { Model = TinyConfig().Model with { DownDims = [16, 48] } };
        var faster = TinyConfig() with { Training = TinyConfig().Training with { LearningRate = 1e-3 } };
        foreach (var other in new[] { wider, faster })
        {
            var e = Assert.Throws<InvalidDataException>(() => new TrainingRun(other, data, dir).Run());
            Assert.Contains("different configuration", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Other_demonstrations_of_the_same_size_are_refused_by_their_fingerprint()
    {
        var dir = Path.Combine(root, "run");
        var config = TinyConfig() with { Training = TinyConfig().Training with { Steps = 4 } };
        new TrainingRun(config, Demonstrations(), dir).Run();
        var shifted = Demonstrations(shift: 0.5f);
        Assert.Equal((Demonstrations().Episodes, Demonstrations().Steps), (shifted.Episodes, shifted.Steps));
        var e = Assert.Throws<InvalidDataException>(() => new TrainingRun(config with { Training = config.Training with { Steps = 8 } }, shifted, dir).Run());
        Assert.Contains("other data", e.Message, StringComparison.Ordinal);
        // The run's own data, in a new buffer (same arrays): accepted.
        Assert.Equal(8, new TrainingRun(config with { Training = config.Training with { Steps = 8 } }, Demonstrations(), dir).Run());
    }

    [Fact]
    public void Fewer_steps_than_reached_are_refused_and_leave_config_json_as_it_was()
    {
        var data = Demonstrations();
        var dir = Path.Combine(root, "run");
        new TrainingRun(TinyConfig() with { Training = TinyConfig().Training with { Steps = 8 } }, data, dir).Run();
        var configPath = Path.Combine(dir, "config.json");
        var before = File.ReadAllBytes(configPath);
        var e = Assert.Throws<InvalidDataException>(() => new TrainingRun(TinyConfig() with { Training = TinyConfig().Training with { Steps = 4 } }, data, dir).Run());
        Assert.Contains("reached step 8", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(configPath));
    }

    [Fact]
    public void A_config_json_left_by_a_start_that_saved_nothing_does_not_block_the_next_start()
    {
        var data = Demonstrations();
        var dir = Path.Combine(root, "run");
        var wrong = TinyConfig() with { ObsDim = 5, Model = TinyConfig().Model with { GlobalCondDim = 10 } };
        Assert.Throws<InvalidDataException>(() => new TrainingRun(wrong, data, dir).Run());   // obs has 4 values per step
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), wrong.ToJson());                 // as an older version left it
        var config = TinyConfig() with { Training = TinyConfig().Training with { Steps = 4 } };
        Assert.Equal(4, new TrainingRun(config, data, dir).Run());
        Assert.Equal(config.ToJson(), File.ReadAllText(Path.Combine(dir, "config.json")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"Step\": 4, \"Elaps")]
    [InlineData("null")]
    public void A_damaged_progress_json_is_bad_input_naming_the_file(string content)
    {
        var data = Demonstrations();
        var dir = Path.Combine(root, "run");
        var config = TinyConfig() with { Training = TinyConfig().Training with { Steps = 4 } };
        new TrainingRun(config, data, dir).Run();
        File.WriteAllText(Path.Combine(dir, "state", "progress.json"), content);
        var e = Assert.Throws<InvalidDataException>(() => new TrainingRun(config with { Training = config.Training with { Steps = 8 } }, data, dir).Run());
        Assert.Contains("progress.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Demonstrations_without_action_are_bad_input_naming_the_key_and_nothing_is_written()
    {
        var arrays = new Dictionary<string, NpyArray>
        {
            ["obs"] = new(new float[40], 10, 4),
            ["episode_ends"] = new(new long[] { 10 }, 1),
        };
        var dir = Path.Combine(root, "run");
        var e = Assert.Throws<InvalidDataException>(() => new TrainingRun(TinyConfig(), new ReplayBuffer(arrays, "'demo.npz'"), dir).Run());
        Assert.Contains("'demo.npz' has no 'action' array", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void A_finished_run_can_be_extended_with_more_steps_and_other_sampler_settings()
    {
        var data = Demonstrations();
        var dir = Path.Combine(root, "run");
        var first = TinyConfig() with { Training = TinyConfig().Training with { Steps = 4 } };
        Assert.Equal(4, new TrainingRun(first, data, dir).Run());

        var extended = TinyConfig() with { Sampler = TinyConfig().Sampler with { Window = 6, Workers = 2 } };
        var run = new TrainingRun(extended, data, dir);
        Assert.Equal(12, run.Run());

        Assert.Equal(12, Losses(run.LogPath).Length);
        Assert.Equal(extended.ToJson(), File.ReadAllText(Path.Combine(dir, "config.json")));
        Assert.Equal(6, PolicyConfig.Load(Path.Combine(run.PolicyDirectory, "policy.json")).Sampler.Window);
    }

    [Fact]
    public void The_saved_policy_predicts_finite_actions_in_the_data_range_and_refuses_bad_observations()
    {
        var data = Demonstrations();
        var run = new TrainingRun(TinyConfig(), data, Path.Combine(root, "run"));
        run.Run();
        using var policy = DiffusionPolicy.Load(run.PolicyDirectory);
        float[] observations = [100, 200, 0, 0, 101, 201, 0, 1, 60, 180, 1, 5, 61, 181, 1, 6];
        var chunk = policy.PredictActions(observations, batch: 2, new TorchSharp.torch.Generator(7));
        Assert.Equal(2 * (policy.Config.Horizon - policy.Config.NObsSteps + 1) * 2, chunk.Actions.Length);
        // clip_sample bounds x̂0, hence the final sample, to [−1, 1]: the actions' range in the data.
        var recorded = data.Column("action", out _);
        for (var i = 0; i < chunk.Actions.Length; i++)
        {
            var dim = recorded.Where((_, j) => j % 2 == i % 2).ToArray();
            Assert.InRange(chunk.Actions[i], dim.Min() - 1e-3f, dim.Max() + 1e-3f);
        }
        Assert.True(chunk.Stats.Iterations is > 0 and <= 100);

        observations[3] = float.NaN;
        Assert.Throws<ArgumentException>(() => policy.PredictActions(observations, batch: 2));
        Assert.Throws<ArgumentException>(() => policy.PredictActions(observations.AsSpan(0, 5), batch: 1));
    }
}
