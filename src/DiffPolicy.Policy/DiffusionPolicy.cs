using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Sampling;
using DiffPolicy.Policy.Schedulers;
using DiffPolicy.Policy.Training;
using static TorchSharp.torch;

namespace DiffPolicy.Policy;

/// <summary>Predicted actions (batch × <see cref="PolicyConfig.PredictedSteps"/> × action_dim, robot units) and how they were sampled.</summary>
public sealed record ActionChunk(float[] Actions, int Batch, int Steps, int ActionDim, ChunkStats Stats)
{
    public ReadOnlySpan<float> Action(int sample, int step) =>
        Actions.AsSpan((sample * Steps + step) * ActionDim, ActionDim);
}

/// <summary>
/// A trained low-dim DiffusionPolicy ready to act: observation history in, the chunk of actions to
/// execute out. Normalises observations, samples the action trajectory with the configured solver
/// and sampler (ParaDiGMS by default) under one dispose scope and inference mode, and returns
/// prediction[n_obs_steps − 1 :] in robot units: the n_action_steps actions to execute, then the rest of the
/// predicted trajectory.
/// Not thread-safe: call from one inference thread.
/// </summary>
public sealed class DiffusionPolicy : IDisposable
{
    readonly ConditionalUnet1D network;
    readonly INoisePredictor predictor;
    readonly NoiseSchedule schedule;
    readonly DiffusionScheduler scheduler;
    readonly DiffusionSampler sampler;
    readonly LinearNormalizer obsNormalizer, actionNormalizer;
    readonly Device device;

    DiffusionPolicy(PolicyConfig config, ConditionalUnet1D network, LinearNormalizer obs, LinearNormalizer action, Device device, NetworkBackend backend)
    {
        Config = config;
        this.network = network;
        predictor = NoisePredictors.Create(network, backend, device);
        obsNormalizer = obs;
        actionNormalizer = action;
        this.device = device;
        schedule = new NoiseSchedule(config.Scheduler.NumTrainTimesteps);
        scheduler = config.Scheduler.Create(schedule, device);
        sampler = new DiffusionSampler(predictor, scheduler, config.Sampler, config.Horizon);
    }

    /// <summary>
    /// Loads a checkpoint written by training; <paramref name="scheduler"/> and
    /// <paramref name="sampler"/> override the stored inference settings; <paramref name="backend"/> picks the network's implementation.
    /// </summary>
    public static DiffusionPolicy Load(string checkpoint, Device? device = null, NoiseSchedulerConfig? scheduler = null, SamplerOptions? sampler = null,
        NetworkBackend backend = NetworkBackend.Auto)
    {
        device ??= CPU;
        var (config, network, obs, action) = PolicyCheckpoint.Load(checkpoint, device);
        config = config with { Scheduler = scheduler ?? config.Scheduler, Sampler = sampler ?? config.Sampler };
        config.Validate();
        try
        {
            return new DiffusionPolicy(config, network, obs, action, device, backend);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Wraps an in-memory network (training rollouts); the policy does not own it. The torch backend (default)
    /// follows later changes of the weights; a fast one is packed from the weights as they are now.
    /// </summary>
    public static DiffusionPolicy FromNetwork(PolicyConfig config, ConditionalUnet1D network, LinearNormalizer obs, LinearNormalizer action, Device? device = null,
        NetworkBackend backend = NetworkBackend.Torch)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return new DiffusionPolicy(config, network, obs, action, device ?? CPU, backend) { ownsNetwork = false };
    }

    /// <summary>The implementation that runs the network: <see cref="NetworkBackend.Fast"/> or <see cref="NetworkBackend.Torch"/>.</summary>
    public NetworkBackend Backend => predictor is Network.Fast.FastUnet1D ? NetworkBackend.Fast : NetworkBackend.Torch;

    bool ownsNetwork = true;

    public PolicyConfig Config { get; }

    /// <param name="observations">batch × n_obs_steps × obs_dim raw observations, oldest first.</param>
    /// <param name="batch">Number of independent samples (robots or episodes).</param>
    /// <param name="generator">Seeds the sampler's noise; null uses the global generator.</param>
    /// <param name="cancellationToken">Stops sampling between network calls (<see cref="OperationCanceledException"/>).</param>
    /// <param name="priors">Per sample, what its robot still has planned (real-time chunking), or null; null for none at all.</param>
    public ActionChunk PredictActions(ReadOnlySpan<float> observations, int batch = 1, Generator? generator = null, CancellationToken cancellationToken = default,
        IReadOnlyList<ChunkPrior?>? priors = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        int condDim = Config.NObsSteps * Config.ObsDim;
        if (observations.Length != batch * condDim)
            throw new ArgumentException(
                $"Expected {batch} × {Config.NObsSteps} × {Config.ObsDim} = {batch * condDim} observation values, got {observations.Length}.", nameof(observations));
        var normalized = observations.ToArray();
        for (int i = 0; i < normalized.Length; i++)
            if (!float.IsFinite(normalized[i]))
                throw new ArgumentException($"Observation value {i} is {normalized[i]}; observations must be finite.", nameof(observations));
        obsNormalizer.Normalize(normalized);

        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var cond = tensor(normalized, [batch, condDim]).to(device);
        using var inpainting = Inpaint(priors, batch);
        using var result = sampler.Sample(cond, generator, cancellationToken, inpainting);
        var predicted = result.Trajectory.narrow(1, Config.FirstActionIndex, Config.PredictedSteps).to(float32).cpu().contiguous();
        float[] actions = predicted.data<float>().ToArray();
        actionNormalizer.Unnormalize(actions);
        return new ActionChunk(actions, batch, Config.PredictedSteps, Config.ActionDim, result.Stats);
    }

    /// <summary>The priors as normalised known actions at their trajectory positions (prediction[n_obs_steps − 1 + i]).</summary>
    Inpainting? Inpaint(IReadOnlyList<ChunkPrior?>? priors, int batch)
    {
        if (priors is null || priors.All(p => p is null)) return null;
        if (priors.Count != batch) throw new ArgumentException($"{priors.Count} priors for a batch of {batch}.", nameof(priors));
        int horizon = Config.Horizon, dim = Config.ActionDim, first = Config.FirstActionIndex;
        var known = new float[batch * horizon * dim];
        var weights = new float[batch * horizon];
        for (int b = 0; b < batch; b++)
        {
            if (priors[b] is not { } prior) continue;
            int rows = prior.Rows(dim, Config.PredictedSteps);
            var actions = prior.Actions.ToArray();
            actionNormalizer.Normalize(actions);
            actions.CopyTo(known, (b * horizon + first) * dim);
            (prior.Weights ?? ChunkPrior.DefaultWeights(rows, prior.Frozen)).CopyTo(weights, b * horizon + first);
        }
        return new Inpainting(tensor(known, [batch, horizon, dim]).to(device), tensor(weights, [batch, horizon]).to(device));
    }

    /// <summary>
    /// Samples <paramref name="chunks"/> chunks for an observation at the middle of the data range and discards them,
    /// so that the first real chunks do not pay for JIT compilation and first allocations (on the build machine the
    /// first two chunks of a process take ≈ 1.4× the steady latency without tiered compilation, as the CLI runs, and
    /// the first six 1.2–1.5× with it). Uses noise of its own: the global generator, and so every later result, is
    /// untouched. Call before serving robots.
    /// </summary>
    public void WarmUp(int chunks = 3)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunks);
        var middle = new float[Config.NObsSteps * Config.ObsDim];
        obsNormalizer.Unnormalize(middle);
        using var noise = new Generator(0, device);
        for (int i = 0; i < chunks; i++) PredictActions(middle, 1, noise);
    }

    public void Dispose()
    {
        scheduler.Dispose();
        schedule.Dispose();
        if (!ReferenceEquals(predictor, network)) (predictor as IDisposable)?.Dispose();
        if (ownsNetwork) network.Dispose();
    }
}
