using System.Globalization;
using System.Text.Json;
using DiffPolicy.Data;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Schedulers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Training;

/// <summary>What a training run reports after every step.</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, double Loss, double LearningRate, double SamplesPerSecond, double? ValLoss, double? Score);

/// <summary>
/// Trains a low-dim DiffusionPolicy (ε-prediction MSE on noised action windows, conditioned on the
/// first n_obs_steps observations of each window) in a run directory that it can resume exactly:
/// <list type="bullet">
/// <item><c>config.json</c>, the policy configuration (a resumed run must use the same one: <see cref="RunIdentity"/>);</item>
/// <item><c>state/</c>: model, EMA, optimiser and step, replaced atomically every <c>save_every</c> steps (<see cref="RunState"/>);</item>
/// <item><c>policy/</c>: the EMA policy checkpoint at the last save;</item>
/// <item><c>log.csv</c>: step, loss, learning rate, validation loss, rollout score, elapsed seconds (<see cref="TrainingLog"/>).</item>
/// </list>
/// Batches come from a per-epoch permutation seeded by (seed, epoch) and noise from a generator
/// seeded by (seed, step), so a resumed run repeats the interrupted run's losses.
/// </summary>
public sealed class TrainingRun
{
    const string PolicyDir = "policy", LogFile = "log.csv";

    readonly PolicyConfig config;
    readonly ReplayBuffer data;
    readonly string directory;
    readonly Device device;
    readonly RunIdentity identity;
    readonly RunState state;

    public TrainingRun(PolicyConfig config, ReplayBuffer data, string directory, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(data);
        config.Validate();
        this.config = config;
        this.data = data;
        this.directory = Path.GetFullPath(directory);
        this.device = device ?? CPU;
        identity = new RunIdentity(config, data);
        state = new RunState(this.directory);
    }

    public string PolicyDirectory => Path.Combine(directory, PolicyDir);
    public string LogPath => Path.Combine(directory, LogFile);

    /// <summary>
    /// Trains up to <c>training.steps</c>, resuming from the last save if the directory holds one.
    /// <paramref name="rollout"/> (optional) scores the EMA policy in closed loop every
    /// <c>rollout_every</c> steps. Cancelling saves the state at the current step and returns.
    /// </summary>
    public int Run(IProgress<TrainingProgress>? progress = null, Func<DiffusionPolicy, int, double>? rollout = null, CancellationToken cancel = default)
    {
        var t = config.Training;
        CheckData();
        var saved = CheckDirectory();
        Directory.CreateDirectory(directory);
        identity.WriteConfig(directory);

        var obs = data.Column(config.ObsKey, out var obsWidth);
        var action = data.Column("action", out var actionWidth);
        var obsNormalizer = LinearNormalizer.FitLimits(obs, obsWidth);
        var actionNormalizer = LinearNormalizer.FitLimits(action, actionWidth);
        obs = (float[])obs.Clone();
        action = (float[])action.Clone();
        obsNormalizer.Normalize(obs);
        actionNormalizer.Normalize(action);

        var (trainEpisodes, valEpisodes) = identity.SplitEpisodes();
        var train = new SequenceSampler(data, config.Horizon, config.NObsSteps - 1, config.NActionSteps - 1, trainEpisodes);
        var val = new SequenceSampler(data, config.Horizon, config.NObsSteps - 1, config.NActionSteps - 1, valEpisodes);

        torch.manual_seed(t.Seed);
        var modelConfig = config.Model with { Horizon = config.Horizon };
        using var model = new ConditionalUnet1D(modelConfig);
        using var emaNetwork = new ConditionalUnet1D(modelConfig);
        model.to(device);
        emaNetwork.to(device);
        using (no_grad())
        {
            foreach (var ((_, target), (_, source)) in emaNetwork.named_parameters().Zip(model.named_parameters()))
                target.copy_(source);
        }

        var ema = new EmaModel(emaNetwork, t.EmaPower);
        using var optimizer = optim.AdamW(model.parameters(), t.LearningRate, t.Beta1, t.Beta2, weight_decay: t.WeightDecay);
        using var schedule = new NoiseSchedule(config.Scheduler.NumTrainTimesteps);

        var step = saved is null ? 0 : state.Load(model, emaNetwork, optimizer);
        TrainingLog.Restart(LogPath, step);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var elapsedBefore = saved?.ElapsedSeconds ?? 0;

        var batch = new Batch(config, t.BatchSize);
        int[]? permutation = null;
        var permutationEpoch = -1;
        var stepsPerEpoch = Math.Max(1, train.Count / t.BatchSize);
        var savedStep = step;
        var elapsed = elapsedBefore;
        while (step < t.Steps && !cancel.IsCancellationRequested)
        {
            var epoch = step / stepsPerEpoch;
            if (epoch != permutationEpoch)
            {
                permutation = Permutation(train.Count, t.Seed, epoch);
                permutationEpoch = epoch;
            }
            var first = step % stepsPerEpoch * t.BatchSize;
            batch.Fill(train, obs, action, i => permutation![(first + i) % permutation.Length]);

            var lr = LearningRateSchedule.CosineWithWarmup(t.LearningRate, step, t.WarmupSteps, t.Steps);
            var loss = OptimizerStep(model, optimizer, lr, t.Seed, step, generator => Loss(model, schedule, batch, generator));
            if (!double.IsFinite(loss))
                throw new InvalidOperationException($"The loss became {loss} at step {step}; the last good state is in '{state.Directory}'.");
            NoCollection.Run(() => ema.Step(model, step));
            step++;

            double? valLoss = null, score = null;
            if (step % t.ValEvery == 0 || step == t.Steps) valLoss = ValidationLoss(emaNetwork, schedule, val, obs, action, t.Seed);
            var save = step % t.SaveEvery == 0 || step == t.Steps;
            if (save) SavePolicy(emaNetwork, obsNormalizer, actionNormalizer);
            if (rollout != null && t.RolloutEvery > 0 && (step % t.RolloutEvery == 0 || step == t.Steps))
            {
                using var policy = DiffusionPolicy.FromNetwork(config, emaNetwork, obsNormalizer, actionNormalizer, device);
                score = rollout(policy, step);
            }
            elapsed = elapsedBefore + stopwatch.Elapsed.TotalSeconds;
            TrainingLog.Append(LogPath, new TrainingLogRow(step, loss, lr, valLoss, score, elapsed));
            if (save)
            {
                state.Save(model, emaNetwork, optimizer, identity.Progress(step, elapsed));
                savedStep = step;
            }
            progress?.Report(new TrainingProgress(step, t.Steps, loss, lr, t.BatchSize * step / Math.Max(1e-9, elapsed), valLoss, score));
        }
        // A signal can arrive anywhere in a step, so the save on stopping happens here, after the loop, once.
        if (savedStep != step)
        {
            SavePolicy(emaNetwork, obsNormalizer, actionNormalizer);
            state.Save(model, emaNetwork, optimizer, identity.Progress(step, elapsed));
        }
        return step;
    }

    static Tensor Loss(ConditionalUnet1D network, NoiseSchedule schedule, Batch batch, Generator generator)
    {
        var trajectory = batch.Action();
        var noise = randn(trajectory.shape, generator: generator).to(trajectory.device);
        var timesteps = randint(0, schedule.TrainTimesteps, [trajectory.shape[0]], generator: generator).to(trajectory.device);
        var noisy = schedule.AddNoise(trajectory, noise, timesteps);
        var prediction = network.call(noisy, timesteps, batch.GlobalCond());
        return nn.functional.mse_loss(prediction, noise);
    }

    double ValidationLoss(ConditionalUnet1D network, NoiseSchedule schedule, SequenceSampler val, float[] obs, float[] action, int seed)
    {
        if (val.Count == 0) return double.NaN;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.eval();
        var size = Math.Min(val.Count, config.Training.BatchSize);
        var batch = new Batch(config, size);
        double total = 0;
        var batches = 0;
        for (var start = 0; start < val.Count && batches < 8; start += size, batches++)
        {
            batch.Fill(val, obs, action, i => (start + i) % val.Count);
            using var generator = StepGenerator(seed, -1 - batches);
            total += Loss(network, schedule, batch, generator).item<float>();
        }
        return total / batches;
    }

    /// <summary>Training windows gathered into (B, horizon, ·) buffers, normalised.</summary>
    sealed class Batch(PolicyConfig config, int size)
    {
        readonly float[] obs = new float[size * config.Horizon * config.ObsDim];
        readonly float[] action = new float[size * config.Horizon * config.ActionDim];
        readonly float[] cond = new float[size * config.NObsSteps * config.ObsDim];

        public void Fill(SequenceSampler sampler, float[] obsColumn, float[] actionColumn, Func<int, int> window)
        {
            int obsWindow = config.Horizon * config.ObsDim, actionWindow = config.Horizon * config.ActionDim;
            var condWindow = config.NObsSteps * config.ObsDim;
            for (var i = 0; i < size; i++)
            {
                var w = window(i);
                sampler.Fill(w, obsColumn, config.ObsDim, obs.AsSpan(i * obsWindow, obsWindow));
                sampler.Fill(w, actionColumn, config.ActionDim, action.AsSpan(i * actionWindow, actionWindow));
                obs.AsSpan(i * obsWindow, condWindow).CopyTo(cond.AsSpan(i * condWindow));
            }
        }

        public Tensor Action() => tensor(action, [size, config.Horizon, config.ActionDim]);
        public Tensor GlobalCond() => tensor(cond, [size, config.NObsSteps * config.ObsDim]);
    }

    /// <summary>
    /// One optimiser step at learning rate <paramref name="lr"/> on the loss <paramref name="loss"/> computes from the step's
    /// generator, with the GC held off (<see cref="NoCollection"/>); returns the loss.
    /// </summary>
    internal static double OptimizerStep(nn.Module model, optim.Optimizer optimizer, double lr, int seed, long step, Func<Generator, Tensor> loss)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
        var value = double.NaN;
        NoCollection.Run(() =>
        {
            using var scope = NewDisposeScope();
            model.train();
            using var generator = StepGenerator(seed, step);
            var l = loss(generator);
            optimizer.zero_grad();
            l.backward();
            optimizer.step();
            value = l.item<float>();
        });
        return value;
    }

    internal static Generator StepGenerator(int seed, long step) =>
        new Generator(unchecked((ulong)(seed * 1_000_003L + step)));

    internal static int[] Permutation(int count, int seed, int epoch)
    {
        var permutation = Enumerable.Range(0, count).ToArray();
        // Seeded arithmetically: HashCode is randomised per process and would break resuming in a new process.
        new Random(unchecked(seed * 1_000_003 + epoch) & int.MaxValue).Shuffle(permutation);
        return permutation;
    }

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> (naming the dataset and the key) when the dataset cannot train this
    /// configuration: a missing obs_key or 'action', other widths than obs_dim and action_dim, no training window.
    /// </summary>
    public void CheckData() => identity.CheckData();

    /// <summary>
    /// What the run directory holds, checked against this run without writing anything: its saved state (null when
    /// nothing was saved yet, whatever config.json a failed start left), which this run must be able to continue
    /// (<see cref="RunIdentity.CheckContinues"/>). progress.json is read once per run, however often this is called.
    /// </summary>
    public SavedProgress? CheckDirectory()
    {
        var saved = state.Progress;
        if (saved is not null) identity.CheckContinues(directory, saved);
        return saved;
    }

    void SavePolicy(ConditionalUnet1D ema, LinearNormalizer obs, LinearNormalizer action) =>
        PolicyCheckpoint.Save(PolicyDirectory, config, ema, obs, action);
}
