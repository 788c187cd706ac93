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
/// <item><c>config.json</c>, the policy configuration (a resumed run must use the same one);</item>
/// <item><c>state/</c>: model, EMA, optimiser and step, replaced atomically every <c>save_every</c> steps;</item>
/// <item><c>policy/</c>: the EMA policy checkpoint at the last save;</item>
/// <item><c>log.csv</c>: step, loss, learning rate, validation loss, rollout score, elapsed seconds.</item>
/// </list>
/// Batches come from a per-epoch permutation seeded by (seed, epoch) and noise from a generator
/// seeded by (seed, step), so a resumed run repeats the interrupted run's losses.
/// </summary>
public sealed class TrainingRun
{
    const string ConfigFile = "config.json", StateDir = "state", PolicyDir = "policy", LogFile = "log.csv";
    const string LogHeader = "step,loss,lr,val_loss,score,elapsed_s";

    readonly PolicyConfig config;
    readonly ReplayBuffer data;
    readonly string directory;
    readonly Device device;

    public TrainingRun(PolicyConfig config, ReplayBuffer data, string directory, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(data);
        config.Validate();
        this.config = config;
        this.data = data;
        this.directory = Path.GetFullPath(directory);
        this.device = device ?? CPU;
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
        WriteConfig();

        var obs = data.Column(config.ObsKey, out var obsWidth);
        var action = data.Column("action", out var actionWidth);
        var obsNormalizer = LinearNormalizer.FitLimits(obs, obsWidth);
        var actionNormalizer = LinearNormalizer.FitLimits(action, actionWidth);
        obs = (float[])obs.Clone();
        action = (float[])action.Clone();
        obsNormalizer.Normalize(obs);
        actionNormalizer.Normalize(action);

        var (trainEpisodes, valEpisodes) = SplitEpisodes(data.Episodes, t.ValRatio, t.Seed);
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

        var step = saved is null ? 0 : LoadState(saved, model, emaNetwork, optimizer);
        TruncateLog(step);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var elapsedBefore = saved?.ElapsedSeconds ?? 0;

        var batch = new Batch(config, t.BatchSize);
        int[]? permutation = null;
        var permutationEpoch = -1;
        var stepsPerEpoch = Math.Max(1, train.Count / t.BatchSize);
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
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            double loss;
            using (var scope = NewDisposeScope())
            {
                model.train();
                var l = Loss(model, schedule, batch, StepGenerator(t.Seed, step));
                optimizer.zero_grad();
                l.backward();
                optimizer.step();
                loss = l.item<float>();
            }
            if (!double.IsFinite(loss))
                throw new InvalidOperationException($"The loss became {loss} at step {step}; the last good state is in '{Path.Combine(directory, StateDir)}'.");
            ema.Step(model, step);
            step++;

            double? valLoss = null, score = null;
            if (step % t.ValEvery == 0 || step == t.Steps) valLoss = ValidationLoss(emaNetwork, schedule, val, obs, action, t.Seed);
            var save = step % t.SaveEvery == 0 || step == t.Steps || cancel.IsCancellationRequested;
            if (save) SavePolicy(emaNetwork, obsNormalizer, actionNormalizer);
            if (rollout != null && t.RolloutEvery > 0 && (step % t.RolloutEvery == 0 || step == t.Steps))
            {
                using var policy = DiffusionPolicy.FromNetwork(config, emaNetwork, obsNormalizer, actionNormalizer, device);
                score = rollout(policy, step);
            }
            var elapsed = elapsedBefore + stopwatch.Elapsed.TotalSeconds;
            AppendLog(step, loss, lr, valLoss, score, elapsed);
            if (save) SaveState(model, emaNetwork, optimizer, step, elapsed);
            progress?.Report(new TrainingProgress(step, t.Steps, loss, lr, t.BatchSize * step / Math.Max(1e-9, elapsed), valLoss, score));
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
            total += Loss(network, schedule, batch, StepGenerator(seed, -1 - batches)).item<float>();
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

    static Generator StepGenerator(int seed, long step) =>
        new Generator(unchecked((ulong)(seed * 1_000_003L + step)));

    static int[] Permutation(int count, int seed, int epoch)
    {
        var permutation = Enumerable.Range(0, count).ToArray();
        // Seeded arithmetically: HashCode is randomised per process and would break resuming in a new process.
        new Random(unchecked(seed * 1_000_003 + epoch) & int.MaxValue).Shuffle(permutation);
        return permutation;
    }

    /// <summary>DiffusionPolicy's get_val_mask: a seeded choice of round(val_ratio × n) episodes (at least 1 when the ratio is positive), never all of them.</summary>
    static (HashSet<int> Train, HashSet<int> Val) SplitEpisodes(int episodes, double valRatio, int seed)
    {
        var nVal = valRatio <= 0 ? 0 : Math.Min(Math.Max(1, (int)Math.Round(episodes * valRatio)), episodes - 1);
        var order = Enumerable.Range(0, episodes).ToArray();
        new Random(seed).Shuffle(order);
        return (order.Skip(nVal).ToHashSet(), order.Take(nVal).ToHashSet());
    }

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> (naming the dataset and the key) when the dataset cannot train this
    /// configuration: a missing obs_key or 'action', other widths than obs_dim and action_dim, no training window.
    /// </summary>
    public void CheckData()
    {
        int obsWidth = data.Width(config.ObsKey), actionWidth = data.Width("action");
        if (obsWidth != config.ObsDim || actionWidth != config.ActionDim)
        {
            throw new InvalidDataException(
                $"{data.Source}'s '{config.ObsKey}' has {obsWidth} values per step and 'action' {actionWidth}; the config says obs_dim {config.ObsDim}, action_dim {config.ActionDim}.");
        }

        var (trainEpisodes, _) = SplitEpisodes(data.Episodes, config.Training.ValRatio, config.Training.Seed);
        if (new SequenceSampler(data, config.Horizon, config.NObsSteps - 1, config.NActionSteps - 1, trainEpisodes).Count == 0)
            throw new InvalidDataException($"{data.Source} yields no training windows ({data.Episodes} episodes, {data.Steps} steps).");
    }

    /// <summary>
    /// What the run directory holds, checked against this run without writing anything: its saved state (null when
    /// nothing was saved yet, whatever config.json a failed start left) must come from the same dataset (by
    /// fingerprint), the same configuration (training.steps and the sampler may change) and a step not beyond
    /// training.steps. Throws <see cref="InvalidDataException"/> naming the directory otherwise.
    /// </summary>
    public SavedProgress? CheckDirectory()
    {
        var stateDir = ExistingState();
        if (stateDir is null) return null;
        var saved = ReadProgress(stateDir);
        var sameData = saved.Dataset is { } fingerprint
            ? fingerprint == Fingerprint
            : saved.Episodes == data.Episodes && saved.Steps == data.Steps;
        if (!sameData)
        {
            throw new InvalidDataException(
                $"'{directory}' was trained on other data ({saved.Episodes} episodes / {saved.Steps} steps{(saved.Dataset is null ? "" : $", fingerprint {saved.Dataset[..12]}")}) " +
                $"than {data.Source} ({data.Episodes} / {data.Steps}, {Fingerprint[..12]}); use a new --out directory or the run's own data.");
        }

        if (config.Training.Steps < saved.Step)
        {
            throw new InvalidDataException(
                $"training.steps is {config.Training.Steps} (--steps) but '{directory}' has already reached step {saved.Step}; give at least {saved.Step} steps or a new --out directory.");
        }

        var path = Path.Combine(directory, ConfigFile);
        if (File.Exists(path))
        {
            // Compared as read by this version, so settings added since (at their defaults) do not count as changes.
            // The sampler only matters at inference and the step count only says where training stops: a run
            // may be extended (the cosine decay then runs over the new total from the resume point) or resumed
            // with other sampler settings, and its config records them.
            PolicyConfig stored;
            try
            {
                stored = PolicyConfig.FromJson(File.ReadAllText(path));
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"'{path}': {e.Message}", e);
            }
            var comparable = stored with { Sampler = config.Sampler, Training = stored.Training with { Steps = config.Training.Steps } };
            if (comparable.ToJson() != config.ToJson())
            {
                throw new InvalidDataException(
                    $"'{directory}' holds a run with a different configuration ({path}); use a new --out directory or the same config " +
                    "(only training.steps and the sampler may change).");
            }
        }
        return saved;
    }

    /// <summary>The SHA-256 of the demonstrations this run trains on (episode_ends, obs_key, action).</summary>
    string Fingerprint => fingerprint ??= data.Fingerprint(config.ObsKey, "action");

    string? fingerprint;

    void WriteConfig()
    {
        var path = Path.Combine(directory, ConfigFile);
        var json = config.ToJson();
        if (File.Exists(path) && File.ReadAllText(path) == json) return;
        AtomicFile.WriteAllText(path, json);
    }

    void SavePolicy(ConditionalUnet1D ema, LinearNormalizer obs, LinearNormalizer action) =>
        PolicyCheckpoint.Save(PolicyDirectory, config, ema, obs, action);

    /// <summary>What <c>state/progress.json</c> records beside the weights: the step, and the dataset it was trained on.</summary>
    public sealed record SavedProgress(int Step, double ElapsedSeconds, int Episodes, int Steps, string? Dataset = null);

    void SaveState(ConditionalUnet1D model, ConditionalUnet1D ema, OptimizerHelper optimizer, int step, double elapsed) =>
        AtomicDirectory.Write(Path.Combine(directory, StateDir), staging =>
        {
            model.SaveSafetensors(Path.Combine(staging, "model.safetensors"));
            ema.SaveSafetensors(Path.Combine(staging, "ema.safetensors"));
            optimizer.save_state_dict(Path.Combine(staging, "optimizer.bin"));
            File.WriteAllText(Path.Combine(staging, "progress.json"),
                JsonSerializer.Serialize(new SavedProgress(step, elapsed, data.Episodes, data.Steps, Fingerprint)));
        });

    int LoadState(SavedProgress saved, ConditionalUnet1D model, ConditionalUnet1D ema, OptimizerHelper optimizer)
    {
        var dir = ExistingState()!;
        model.LoadStrict(Path.Combine(dir, "model.safetensors"));
        ema.LoadStrict(Path.Combine(dir, "ema.safetensors"));
        optimizer.load_state_dict(Path.Combine(dir, "optimizer.bin"));
        return saved.Step;
    }

    /// <summary>The saved state's directory (or its .old copy after an interrupted swap), or null when nothing was saved.</summary>
    string? ExistingState()
    {
        try
        {
            return AtomicDirectory.Resolve(Path.Combine(directory, StateDir));
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    static SavedProgress ReadProgress(string dir)
    {
        var path = Path.Combine(dir, "progress.json");
        try
        {
            var saved = JsonSerializer.Deserialize<SavedProgress>(File.ReadAllText(path));
            return saved is { Step: >= 0, Episodes: >= 0, Steps: >= 0 } ? saved : throw new JsonException("no step, or a negative one");
        }
        catch (Exception e) when (e is JsonException or FileNotFoundException)
        {
            throw new InvalidDataException(
                $"'{path}' is missing or unreadable ({e.Message.Split('.')[0]}): the run's saved state is damaged; remove '{dir}' to start over.", e);
        }
    }

    /// <summary>Drops log rows written after the last save, so a resumed run continues one curve.</summary>
    void TruncateLog(int step)
    {
        if (!File.Exists(LogPath) || step == 0)
        {
            AtomicFile.WriteAllText(LogPath, LogHeader + "\n");
            return;
        }
        // Rows that do not parse (a line cut by a crash) are dropped with the rows after the save.
        var kept = File.ReadAllLines(LogPath).Skip(1)
            .Where(line => int.TryParse(line.Split(',')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var row) && row <= step);
        AtomicFile.WriteAllText(LogPath, string.Join("\n", kept.Prepend(LogHeader)) + "\n");
    }

    void AppendLog(int step, double loss, double lr, double? valLoss, double? score, double elapsed) =>
        File.AppendAllText(LogPath, string.Create(CultureInfo.InvariantCulture,
            $"{step},{loss:R},{lr:R},{(valLoss is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "")},{(score is { } s ? s.ToString("R", CultureInfo.InvariantCulture) : "")},{elapsed:F1}\n"));
}
