using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Sampling;
using DiffPolicy.Policy.Schedulers;
using DiffPolicy.Policy.Training;
using DiffPolicy.Policy.Vision;
using static TorchSharp.torch;

namespace DiffPolicy.Policy;

/// <summary>
/// A trained DiffusionPolicy ready to act: observation history in, the chunk of actions to execute out. Normalises
/// observations (and, for an image policy, encodes them with the MultiImageObsEncoder once per chunk), samples the action
/// trajectory with the configured solver and sampler (ParaDiGMS by default) under one dispose scope and inference mode, and
/// returns prediction[n_obs_steps − 1 :] in robot units: the n_action_steps actions to execute, then the rest of the
/// predicted trajectory.
/// Not thread-safe: call from one inference thread.
/// </summary>
public sealed class DiffusionPolicy : IDisposable
{
    readonly ConditionalUnet1D network;
    readonly INoisePredictor predictor;
    readonly MultiImageObsEncoder? encoder;
    readonly NoiseSchedule schedule;
    readonly DiffusionScheduler scheduler;
    readonly DiffusionSampler sampler;
    readonly IReadOnlyDictionary<string, LinearNormalizer> normalizers;
    readonly LinearNormalizer actionNormalizer;
    readonly Device device;

    DiffusionPolicy(PolicyConfig config, ConditionalUnet1D network, IReadOnlyDictionary<string, LinearNormalizer> normalizers, MultiImageObsEncoder? encoder,
        Device device, NetworkBackend backend)
    {
        Config = config;
        this.network = network;
        predictor = NoisePredictors.Create(network, backend, device);
        this.encoder = encoder;
        this.normalizers = normalizers;
        actionNormalizer = normalizers[PolicyCheckpoint.ActionField];
        this.device = device;
        schedule = new NoiseSchedule(config.Scheduler.NumTrainTimesteps);
        scheduler = config.Scheduler.Create(schedule, device);
        sampler = new DiffusionSampler(predictor, scheduler, config.Sampler, config.Horizon);
    }

    /// <summary>
    /// Loads a checkpoint written by training or import; <paramref name="scheduler"/> and
    /// <paramref name="sampler"/> override the stored inference settings; <paramref name="backend"/> picks the network's implementation.
    /// </summary>
    public static DiffusionPolicy Load(string checkpoint, Device? device = null, NoiseSchedulerConfig? scheduler = null, SamplerOptions? sampler = null,
        NetworkBackend backend = NetworkBackend.Auto)
    {
        device ??= CPU;
        var parts = PolicyCheckpoint.LoadParts(checkpoint, device);
        try
        {
            var config = parts.Config with { Scheduler = scheduler ?? parts.Config.Scheduler, Sampler = sampler ?? parts.Config.Sampler };
            config.Validate();
            return new DiffusionPolicy(config, parts.Network, parts.Normalizers, parts.Encoder, device, backend);
        }
        catch
        {
            parts.Dispose();
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
        var normalizers = new Dictionary<string, LinearNormalizer> { [PolicyCheckpoint.ObsField] = obs, [PolicyCheckpoint.ActionField] = action };
        return new DiffusionPolicy(config, network, normalizers, null, device ?? CPU, backend) { ownsNetwork = false };
    }

    /// <summary>The implementation that runs the network: <see cref="NetworkBackend.Fast"/> or <see cref="NetworkBackend.Torch"/>.</summary>
    public NetworkBackend Backend => predictor is Network.Fast.FastUnet1D ? NetworkBackend.Fast : NetworkBackend.Torch;

    bool ownsNetwork = true;

    public PolicyConfig Config { get; }

    /// <summary>The image encoder of an image policy, else null.</summary>
    public MultiImageObsEncoder? Encoder => encoder;

    /// <param name="observations">batch × n_obs_steps × obs_dim raw observations, oldest first (a policy without an encoder).</param>
    /// <param name="batch">Number of independent samples (robots or episodes).</param>
    /// <param name="generator">Seeds the sampler's noise; null uses the global generator.</param>
    /// <param name="cancellationToken">Stops sampling between network calls (<see cref="OperationCanceledException"/>).</param>
    /// <param name="priors">Per sample, what its robot still has planned (real-time chunking), or null; null for none at all.</param>
    public ActionPrediction PredictActions(ReadOnlySpan<float> observations, int batch = 1, Generator? generator = null, CancellationToken cancellationToken = default,
        IReadOnlyList<ChunkPrior?>? priors = null)
    {
        if (encoder is not null)
            throw new InvalidOperationException("This policy reads several observation keys; pass them by key.");
        return PredictActions(new Dictionary<string, float[]> { [Config.ObsKey] = observations.ToArray() }, batch, generator, cancellationToken, priors);
    }

    /// <summary>
    /// The chunk for raw observations by key, each batch × n_obs_steps × the key's shape, row-major, oldest step first, as
    /// the original's <c>obs_dict</c>: rgb as (3, H, W) in [0, 1], low_dim as (D). Other arguments as in the overload above.
    /// </summary>
    public ActionPrediction PredictActions(IReadOnlyDictionary<string, float[]> observations, int batch = 1, Generator? generator = null, CancellationToken cancellationToken = default,
        IReadOnlyList<ChunkPrior?>? priors = null)
    {
        ArgumentNullException.ThrowIfNull(observations);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var cond = GlobalCond(observations, batch);
        using var inpainting = Inpaint(priors, batch);
        using var result = sampler.Sample(cond, generator, cancellationToken, inpainting);
        var predicted = result.Trajectory.narrow(1, Config.FirstActionIndex, Config.PredictedSteps).to(float32).cpu().contiguous();
        var actions = predicted.data<float>().ToArray();
        actionNormalizer.Unnormalize(actions);
        return new ActionPrediction(actions, batch, Config.PredictedSteps, Config.ActionDim, result.Stats) { Certificate = batch == 1 ? result.Certificates[0] : null };
    }

    /// <summary>The priors as normalised known actions at their trajectory positions (prediction[n_obs_steps − 1 + i]).</summary>
    Inpainting? Inpaint(IReadOnlyList<ChunkPrior?>? priors, int batch)
    {
        if (priors is null || priors.All(p => p is null)) return null;
        if (priors.Count != batch) throw new ArgumentException($"{priors.Count} priors for a batch of {batch}.", nameof(priors));
        int horizon = Config.Horizon, dim = Config.ActionDim, first = Config.FirstActionIndex;
        var known = new float[batch * horizon * dim];
        var weights = new float[batch * horizon];
        for (var b = 0; b < batch; b++)
        {
            if (priors[b] is not { } prior) continue;
            var rows = prior.Rows(dim, Config.PredictedSteps);
            var actions = prior.Actions.ToArray();
            actionNormalizer.Normalize(actions);
            actions.CopyTo(known, (b * horizon + first) * dim);
            (prior.Weights ?? ChunkPrior.DefaultWeights(rows, prior.Frozen)).CopyTo(weights, b * horizon + first);
        }
        return new Inpainting(tensor(known, [batch, horizon, dim]).to(device), tensor(weights, [batch, horizon]).to(device));
    }

    /// <summary>
    /// global_cond (batch, n_obs_steps · obs_dim): the normalised observations flattened, or for an image policy the
    /// encoder's features of the batch · n_obs_steps rows (encoded once per chunk, never per denoising step).
    /// </summary>
    public Tensor GlobalCond(IReadOnlyDictionary<string, float[]> observations, int batch)
    {
        ArgumentNullException.ThrowIfNull(observations);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var steps = Config.NObsSteps;
        var inputs = Config.Inputs;
        foreach (var key in observations.Keys)
            if (!inputs.Any(o => o.Key == key)) throw new ArgumentException($"The policy does not read an observation '{key}'.", nameof(observations));
        var normalized = new Dictionary<string, float[]>(inputs.Count);
        foreach (var input in inputs)
        {
            if (!observations.TryGetValue(input.Key, out var values))
                throw new ArgumentException($"The observation has no '{input.Key}'.", nameof(observations));
            if (values.Length != batch * steps * input.Length)
            {
                throw new ArgumentException(
                    $"Expected {batch} × {steps} × {input.Length} = {batch * steps * input.Length} values of '{input.Key}', got {values.Length}.", nameof(observations));
            }

            var copy = values.ToArray();
            for (var i = 0; i < copy.Length; i++)
            {
                if (!float.IsFinite(copy[i]))
                    throw new ArgumentException($"Value {i} of '{input.Key}' is {copy[i]}; observations must be finite.", nameof(observations));
            }

            normalizers[encoder is null ? PolicyCheckpoint.ObsField : input.Key].Normalize(copy);
            normalized[input.Key] = copy;
        }
        if (encoder is null) return tensor(normalized[Config.ObsKey], [batch, steps * Config.ObsDim]).to(device);

        using var scope = NewDisposeScope();
        var rows = inputs.ToDictionary(o => o.Key, o => tensor(normalized[o.Key], [batch * steps, .. o.Shape.Select(d => (long)d)]).to(device));
        return encoder.call(rows).reshape(batch, steps * Config.ObsDim).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The noise-prediction network as the sampler runs it (<see cref="Backend"/>) on (sample (B, T, A), timestep (B,),
    /// global_cond (B, G)): ε (B, T, A).
    /// </summary>
    public Tensor PredictNoise(Tensor sample, Tensor timestep, Tensor globalCond)
    {
        ArgumentNullException.ThrowIfNull(sample);
        using var conditioning = predictor.Condition(timestep.to(device), globalCond.to(device));
        return predictor.Denoise(sample.to(device), conditioning);
    }

    /// <summary>Normalised actions (rows of action_dim) → robot units, in place.</summary>
    public void UnnormalizeActions(Span<float> actions) => actionNormalizer.Unnormalize(actions);

    /// <summary>
    /// Predicts for every request <paramref name="feed"/> hands in, sampled together (<see cref="DiffusionSampler.Serve"/>):
    /// each with its own observations, noise generator, deadline and cancellation; requests join and leave between
    /// network calls. With the same generator state a request's actions are those of <see cref="PredictActions"/> alone.
    /// Returns when the feed has no more and none is running. A request with bad observations is answered with an
    /// <see cref="ArgumentException"/> outcome and does not join.
    /// </summary>
    /// <param name="stop">Checked before every network call (<see cref="OperationCanceledException"/>; running requests get no outcome).</param>
    public void Serve(IPredictionFeed feed, CancellationToken stop = default)
    {
        ArgumentNullException.ThrowIfNull(feed);
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var adapter = new PredictionAdapter(this, feed);
        try
        {
            sampler.Serve(adapter, stop);
        }
        finally
        {
            adapter.DisposeRunning();
        }
    }

    /// <summary>Robot-unit actions prediction[n_obs_steps − 1 :] of one (1, horizon, action_dim) trajectory.</summary>
    float[] Actions(Tensor trajectory)
    {
        using var scope = NewDisposeScope();
        var predicted = trajectory.narrow(1, Config.FirstActionIndex, Config.PredictedSteps).to(float32).cpu().contiguous();
        var actions = predicted.data<float>().ToArray();
        actionNormalizer.Unnormalize(actions);
        return actions;
    }

    /// <summary>Turns prediction requests into sample requests and sampled trajectories into action chunks.</summary>
    sealed class PredictionAdapter(DiffusionPolicy policy, IPredictionFeed feed) : ISampleFeed
    {
        readonly HashSet<SampleRequest> running = [];

        public IReadOnlyList<SampleRequest> Take(int count)
        {
            var requests = feed.Take(count);
            if (requests.Count == 0) return [];
            var samples = new List<SampleRequest>(requests.Count);
            foreach (var request in requests)
            {
                Tensor cond;
                Inpainting? inpainting;
                try
                {
                    using var scope = NewDisposeScope();
                    cond = policy.GlobalCond(request.Observations, 1).DetachFromDisposeScope();
                    inpainting = policy.Inpaint(request.Prior is null ? null : [request.Prior], 1);
                }
                catch (ArgumentException ex)
                {
                    feed.Finished(new PredictionOutcome(request, null, null, ex));
                    continue;
                }
                var noise = policy.sampler.DrawNoise(1, request.Noise, policy.device);
                var sample = new SampleRequest(cond, noise)
                {
                    Deadline = request.Deadline,
                    Cancellation = request.Cancellation,
                    Inpainting = inpainting,
                    Tag = request,
                };
                running.Add(sample);
                samples.Add(sample);
            }
            return samples;
        }

        public void Finished(SampleOutcome outcome)
        {
            var request = (PredictionRequest)outcome.Request.Tag!;
            running.Remove(outcome.Request);
            PredictionOutcome result;
            try
            {
                if (outcome.Trajectory is { } trajectory)
                {
                    using var scope = NewDisposeScope();
                    if (!isfinite(trajectory).all().item<bool>())
                        throw new InvalidOperationException("The sampled trajectory has non-finite values: check the network weights.");
                    var chunk = new ActionPrediction(policy.Actions(trajectory), 1, policy.Config.PredictedSteps, policy.Config.ActionDim, outcome.Stats)
                    {
                        Certificate = outcome.Certificate,
                    };
                    result = new PredictionOutcome(request, outcome.Status, chunk, null);
                }
                else
                {
                    result = new PredictionOutcome(request, outcome.Status, null, null);
                }
            }
            catch (InvalidOperationException ex)
            {
                result = new PredictionOutcome(request, outcome.Status, null, ex);
            }
            finally
            {
                Release(outcome.Request);
            }
            feed.Finished(result);
        }

        /// <summary>Frees the tensors of samples still running when the run stopped (cancelled or failed).</summary>
        public void DisposeRunning()
        {
            foreach (var sample in running) Release(sample);
            running.Clear();
        }

        static void Release(SampleRequest sample)
        {
            sample.GlobalCond.Dispose();
            sample.Noise.Dispose();
            sample.Inpainting?.Dispose();
        }
    }

    /// <summary>
    /// Samples <paramref name="chunks"/> chunks for an observation at the middle of the data range and discards them,
    /// so that the first real chunks do not pay for JIT compilation and first allocations (measured in
    /// docs/sampling.md, Performance). Uses noise of its own: the global generator, and so every later result, is
    /// untouched. Call before serving robots.
    /// </summary>
    public void WarmUp(int chunks = 3)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunks);
        var middle = new Dictionary<string, float[]>();
        foreach (var input in Config.Inputs)
        {
            var values = new float[Config.NObsSteps * input.Length];
            normalizers[encoder is null ? PolicyCheckpoint.ObsField : input.Key].Unnormalize(values);
            middle[input.Key] = values;
        }
        using var noise = new Generator(0, device);
        for (var i = 0; i < chunks; i++) PredictActions(middle, 1, noise);
    }

    public void Dispose()
    {
        scheduler.Dispose();
        schedule.Dispose();
        if (!ReferenceEquals(predictor, network)) (predictor as IDisposable)?.Dispose();
        if (ownsNetwork)
        {
            network.Dispose();
            encoder?.Dispose();
        }
    }
}

/// <summary>One robot's request to <see cref="DiffusionPolicy.Serve"/>.</summary>
/// <param name="Observations">Raw observations by key, each n_obs_steps × the key's shape, oldest first (as <see cref="DiffusionPolicy.PredictActions(IReadOnlyDictionary{string, float[]}, int, Generator?, CancellationToken, IReadOnlyList{ChunkPrior?}?)"/> with batch 1).</param>
/// <param name="Noise">Seeds this request's sampler noise (advanced by the draw); null uses the global generator.</param>
public sealed record PredictionRequest(IReadOnlyDictionary<string, float[]> Observations, TorchSharp.torch.Generator? Noise)
{
    /// <summary>Anytime deadline, a <see cref="System.Diagnostics.Stopwatch"/> timestamp (<see cref="SampleRequest.Deadline"/>).</summary>
    public long? Deadline { get; init; }

    public CancellationToken Cancellation { get; init; }

    /// <summary>What the robot still has planned (real-time chunking), inpainted into the chunk; null samples freely.</summary>
    public ChunkPrior? Prior { get; init; }

    /// <summary>The caller's own reference.</summary>
    public object? Tag { get; init; }
}

/// <summary>How a request of <see cref="DiffusionPolicy.Serve"/> ended.</summary>
/// <param name="Status">Null when the request was refused before sampling (<paramref name="Error"/> says why).</param>
/// <param name="Chunk">The actions and their certificate; null when cancelled or failed.</param>
public sealed record PredictionOutcome(PredictionRequest Request, SampleStatus? Status, ActionPrediction? Chunk, Exception? Error);

/// <summary>Where <see cref="DiffusionPolicy.Serve"/> gets requests and delivers outcomes; called on the sampling thread between network calls.</summary>
public interface IPredictionFeed
{
    /// <summary>Requests to start now (may be empty); <paramref name="running"/> are being sampled.</summary>
    IReadOnlyList<PredictionRequest> Take(int running);

    void Finished(PredictionOutcome outcome);
}
