using DiffPolicy.Data;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Schedulers;
using DiffPolicy.Policy.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Training;

/// <summary>
/// Trains an image DiffusionPolicy as diffusion_policy's <c>DiffusionUnetImagePolicy.compute_loss</c> does: per window,
/// the first n_obs_steps observations of every key (camera frames channels first /255 through the [0, 1] → [−1, 1]
/// range normaliser, low_dim keys through limits normalisers) go through the <see cref="MultiImageObsEncoder"/> in
/// training mode (random crops), their features become the U-Net's global condition, and the loss is the ε-prediction
/// MSE on the noised, normalised action window. Encoder and U-Net are optimised together (AdamW, cosine schedule with
/// warm-up) and averaged together (EMA); the EMA policy is written to <c>policy/</c> every <c>save_every</c> steps and at
/// the end, the loss to <c>log.csv</c> with, every <c>val_every</c> steps and at the end, the EMA policy's loss (encoder in
/// eval mode: centre crops) on the same held-out windows with the same noise each time — on the first training windows
/// when no episode is held out (<c>val_ratio</c> 0). Batches and noise are seeded as in <see cref="TrainingRun"/>. Not resumable:
/// a run starts from step 0.
/// </summary>
/// <remarks>
/// Dataset columns (diffusion_policy's PushTImageDataset layout): an rgb key reads the uint8 column of its own name, else
/// <c>img</c>, shaped (N, H, W, 3); a low_dim key reads its own column, else <c>agent_pos</c> reads the first two values of
/// <c>state</c> (the agent's x, y).
/// </remarks>
public sealed class ImageTrainingRun
{
    const string PolicyDir = "policy", LogFile = "log.csv";

    readonly PolicyConfig config;
    readonly ReplayBuffer data;
    readonly string directory;
    readonly Device device;

    public ImageTrainingRun(PolicyConfig config, ReplayBuffer data, string directory, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(data);
        config.Validate();
        if (config.Observations is null || config.ObsEncoder is null)
            throw new InvalidDataException("an image training run needs a config with observations and obs_encoder.");
        if (config.ObsEncoder.ShareRgbModel)
            throw new InvalidDataException("obs_encoder.share_rgb_model keeps BatchNorm (as the original), whose running statistics this trainer does not average: train one backbone per camera.");
        this.config = config;
        this.data = data;
        this.directory = Path.GetFullPath(directory);
        this.device = device ?? CPU;
    }

    public string PolicyDirectory => Path.Combine(directory, PolicyDir);
    public string LogPath => Path.Combine(directory, LogFile);

    /// <summary>The dataset column an observation key reads (see the remarks), and how many values per step it takes.</summary>
    string ColumnOf(ObservationSpec o)
    {
        if (data.Has(o.Key)) return o.Key;
        if (o.IsRgb) return "img";
        return o.Key == "agent_pos" && data.Has("state") ? "state" : o.Key;
    }

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> naming the dataset and the key when it cannot train this configuration:
    /// a missing column, frames that are not uint8 (N, H, W, 3) of the key's size, low-dim or action widths that do not
    /// fit, no training window.
    /// </summary>
    public void CheckData()
    {
        foreach (var o in config.Observations!)
        {
            var column = ColumnOf(o);
            var stored = data.Stored(column);
            if (o.IsRgb)
            {
                if (stored.Type != NpyType.UInt8 || stored.Shape.Count != 4 || stored.Shape[1] != o.Shape[1] || stored.Shape[2] != o.Shape[2] || stored.Shape[3] != 3)
                {
                    throw new InvalidDataException(
                        $"{data.Source}'s '{column}' (for '{o.Key}') is {stored.Type} {Shapes.Format(stored.Shape)}; the config needs uint8 (N, {o.Shape[1]}, {o.Shape[2]}, 3) camera frames.");
                }
            }
            else if (data.Width(column) < o.Length || (column == o.Key && data.Width(column) != o.Length))
            {
                throw new InvalidDataException($"{data.Source}'s '{column}' has {data.Width(column)} values per step; '{o.Key}' needs {o.Length}.");
            }
        }
        if (data.Width("action") != config.ActionDim)
            throw new InvalidDataException($"{data.Source}'s 'action' has {data.Width("action")} values per step; the config says action_dim {config.ActionDim}.");
        var (train, _) = new RunIdentity(config, data).SplitEpisodes();
        if (new SequenceSampler(data, config.Horizon, config.NObsSteps - 1, config.NActionSteps - 1, train).Count == 0)
            throw new InvalidDataException($"{data.Source} yields no training windows ({data.Episodes} episodes, {data.Steps} steps).");
    }

    /// <summary>
    /// Trains <c>training.steps</c> steps from scratch; cancelling saves the EMA policy at the current step and returns it.
    /// Returns the step reached.
    /// </summary>
    public int Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        var t = config.Training;
        CheckData();
        Directory.CreateDirectory(directory);
        var observations = config.Observations!;

        // Columns: camera frames stay bytes (H·W·3 per step); low-dim keys and actions as float32 rows.
        var frames = new Dictionary<string, byte[]>();
        var lowDim = new Dictionary<string, float[]>();
        var normalizers = new Dictionary<string, LinearNormalizer>();
        foreach (var o in observations)
        {
            var column = ColumnOf(o);
            if (o.IsRgb)
            {
                frames[o.Key] = (byte[])data.Stored(column).Data;
                normalizers[o.Key] = ImageRange();
                continue;
            }
            var values = data.Column(column, out var width);
            if (width != o.Length) values = [.. Enumerable.Range(0, data.Steps).SelectMany(r => values.AsSpan(r * width, o.Length).ToArray())];
            normalizers[o.Key] = LinearNormalizer.FitLimits(values, o.Length);
            values = (float[])values.Clone();
            normalizers[o.Key].Normalize(values);
            lowDim[o.Key] = values;
        }
        var action = (float[])data.Column("action", out _).Clone();
        normalizers[PolicyCheckpoint.ActionField] = LinearNormalizer.FitLimits(action, config.ActionDim);
        normalizers[PolicyCheckpoint.ActionField].Normalize(action);

        var (trainEpisodes, valEpisodes) = new RunIdentity(config, data).SplitEpisodes();
        var train = new SequenceSampler(data, config.Horizon, config.NObsSteps - 1, config.NActionSteps - 1, trainEpisodes);
        var val = new SequenceSampler(data, config.Horizon, config.NObsSteps - 1, config.NActionSteps - 1, valEpisodes);
        // The validation loss: held-out episodes, or without any the first training windows; the same windows and noise every time.
        var (probe, probeWindows) = val.Count > 0 ? (val, Math.Min(val.Count, 4 * t.BatchSize)) : (train, Math.Min(train.Count, 4 * t.BatchSize));

        manual_seed(t.Seed);
        using var model = new ImagePolicyModules(config);
        using var ema = new ImagePolicyModules(config);
        model.to(device);
        ema.to(device);
        using (no_grad())
        {
            foreach (var ((_, target), (_, source)) in ema.named_parameters().Zip(model.named_parameters())) target.copy_(source);
        }
        var averager = new EmaModel(ema, t.EmaPower);
        using var cropNoise = new Generator(unchecked((ulong)t.Seed * 7919UL), device);
        model.Encoder.CropGenerator = cropNoise;
        using var optimizer = optim.AdamW(model.parameters(), t.LearningRate, t.Beta1, t.Beta2, weight_decay: t.WeightDecay);
        using var schedule = new NoiseSchedule(config.Scheduler.NumTrainTimesteps);

        TrainingLog.Restart(LogPath, 0);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var stepsPerEpoch = Math.Max(1, train.Count / t.BatchSize);
        int[]? permutation = null;
        var permutationEpoch = -1;
        int step = 0, savedStep = 0;
        while (step < t.Steps && !cancel.IsCancellationRequested)
        {
            var epoch = step / stepsPerEpoch;
            if (epoch != permutationEpoch)
            {
                permutation = TrainingRun.Permutation(train.Count, t.Seed, epoch);
                permutationEpoch = epoch;
            }
            var first = step % stepsPerEpoch * t.BatchSize;
            var batch = Enumerable.Range(0, t.BatchSize).Select(i => permutation![(first + i) % permutation.Length]).ToArray();

            var lr = LearningRateSchedule.CosineWithWarmup(t.LearningRate, step, t.WarmupSteps, t.Steps);
            var loss = TrainingRun.OptimizerStep(model, optimizer, lr, t.Seed, step,
                generator => Loss(model, schedule, train, batch, frames, lowDim, normalizers, action, generator));
            if (!double.IsFinite(loss)) throw new InvalidOperationException($"The loss became {loss} at step {step}.");
            NoCollection.Run(() => averager.Step(model, step));
            step++;
            double? valLoss = null;
            if (step % t.ValEvery == 0 || step == t.Steps)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var losses = new List<double>();
                for (var start = 0; start < probeWindows; start += t.BatchSize)
                {
                    var windows = Enumerable.Range(start, Math.Min(t.BatchSize, probeWindows - start)).ToArray();
                    using var generator = TrainingRun.StepGenerator(t.Seed, -1 - (start / t.BatchSize));
                    losses.Add(Loss(ema, schedule, probe, windows, frames, lowDim, normalizers, action, generator).item<float>());
                }
                valLoss = losses.Average();
            }
            var elapsed = stopwatch.Elapsed.TotalSeconds;
            if (step % t.SaveEvery == 0 || step == t.Steps)
            {
                Save(ema, normalizers);
                savedStep = step;
            }
            TrainingLog.Append(LogPath, new TrainingLogRow(step, loss, lr, valLoss, null, elapsed));
            progress?.Report(new TrainingProgress(step, t.Steps, loss, lr, t.BatchSize * step / Math.Max(1e-9, elapsed), valLoss, null));
        }
        // A signal can arrive anywhere in a step, so the save on stopping happens here, after the loop, once.
        if (savedStep != step) Save(ema, normalizers);
        return step;
    }

    /// <summary>ε-prediction MSE of one batch of windows; global_cond from the encoder (batch · n_obs_steps rows).</summary>
    Tensor Loss(ImagePolicyModules model, NoiseSchedule schedule, SequenceSampler sampler, int[] windows, Dictionary<string, byte[]> frames,
        Dictionary<string, float[]> lowDim, Dictionary<string, LinearNormalizer> normalizers, float[] action, Generator generator)
    {
        int batch = windows.Length, steps = config.NObsSteps;
        var obs = new Dictionary<string, Tensor>();
        foreach (var o in config.Observations!)
        {
            var rows = (long)batch * steps;
            if (o.IsRgb)
            {
                int height = o.Shape[1], width = o.Shape[2], frame = height * width * 3;
                var bytes = new byte[batch * steps * frame];
                for (var i = 0; i < batch; i++) sampler.Fill(windows[i], frames[o.Key], frame, bytes.AsSpan(i * steps * frame, steps * frame), steps);
                // (B·T, H, W, 3) bytes → (B·T, 3, H, W) in [0, 1] → the range normaliser.
                var image = tensor(bytes, [rows, height, width, 3]).to(float32).permute(0, 3, 1, 2).div(255f);
                var range = normalizers[o.Key];
                obs[o.Key] = (image * range.Scale[0] + range.Offset[0]).contiguous().to(device);
            }
            else
            {
                var values = new float[batch * steps * o.Length];
                for (var i = 0; i < batch; i++) sampler.Fill(windows[i], lowDim[o.Key], o.Length, values.AsSpan(i * steps * o.Length, steps * o.Length), steps);
                obs[o.Key] = tensor(values, [rows, o.Length]).to(device);
            }
        }
        var actions = new float[batch * config.Horizon * config.ActionDim];
        for (var i = 0; i < batch; i++)
            sampler.Fill(windows[i], action, config.ActionDim, actions.AsSpan(i * config.Horizon * config.ActionDim, config.Horizon * config.ActionDim));
        var trajectory = tensor(actions, [batch, config.Horizon, config.ActionDim]).to(device);
        var cond = model.Encoder.call(obs).reshape(batch, steps * config.ObsDim);
        var noise = randn(trajectory.shape, generator: generator).to(device);
        var timesteps = randint(0, schedule.TrainTimesteps, [batch], generator: generator).to(device);
        var prediction = model.Network.call(schedule.AddNoise(trajectory, noise, timesteps), timesteps, cond);
        return nn.functional.mse_loss(prediction, noise);
    }

    void Save(ImagePolicyModules ema, Dictionary<string, LinearNormalizer> normalizers)
    {
        ema.eval();
        PolicyCheckpoint.Save(PolicyDirectory, config, ema.Network, normalizers, ema.Encoder);
    }

    /// <summary>diffusion_policy's get_image_range_normalizer: [0, 1] → [−1, 1] (scale 2, offset −1), one value for the whole image.</summary>
    public static LinearNormalizer ImageRange() => new([2f], [-1f], new LinearNormalizer.Statistics([0f], [1f], [0.5f], [(float)Math.Sqrt(1.0 / 12)]));

    /// <summary>The trained modules under the original's names: <c>obs_encoder.…</c> and <c>model.…</c>.</summary>
    sealed class ImagePolicyModules : nn.Module
    {
        // Private fields: TorchSharp registers only non-public fields as submodules.
#pragma warning disable IDE1006 // field names are the PyTorch state-dict keys
        readonly MultiImageObsEncoder obs_encoder;
        readonly ConditionalUnet1D model;
#pragma warning restore IDE1006

        public ImagePolicyModules(PolicyConfig config) : base(nameof(ImagePolicyModules))
        {
            obs_encoder = new MultiImageObsEncoder(config.ObsEncoder!, config.Observations!);
            model = new ConditionalUnet1D(config.Model with { Horizon = config.Horizon });
            RegisterComponents();
        }

        public MultiImageObsEncoder Encoder => obs_encoder;

        public ConditionalUnet1D Network => model;
    }
}
