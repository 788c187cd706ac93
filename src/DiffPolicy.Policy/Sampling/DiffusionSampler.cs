using System.Diagnostics;
using DiffPolicy.Data;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Sampling;

/// <summary>An action trajectory and what it cost.</summary>
/// <param name="Trajectory">(B, horizon, action_dim), owned by the caller.</param>
/// <param name="Certificates">Per sample, how far it converged (all converged: no deadline on this path).</param>
public sealed record SamplingResult(Tensor Trajectory, ChunkStats Stats, IReadOnlyList<ConvergenceCertificate> Certificates) : IDisposable
{
    public void Dispose() => Trajectory.Dispose();
}

/// <summary>
/// Samples action trajectories from a noise-prediction network: the entry point for training
/// evaluation and the control server.
/// </summary>
/// <example>
/// <code>
/// using var schedule = new NoiseSchedule(100);
/// using var scheduler = new DdpmScheduler(schedule, 100);
/// var sampler = new DiffusionSampler(network, scheduler, new SamplerOptions { Window = 16, Tolerance = 0.1 });
/// using var result = sampler.Sample(globalCond, generator);   // result.Trajectory: (B, horizon, action_dim)
/// </code>
/// </example>
/// <remarks>
/// Each call runs under one dispose scope and inference mode; only the trajectory leaves it. Not
/// thread-safe: use one sampler per inference thread. <see cref="Serve"/> runs samples of different requests
/// together (each its own conditioning, noise, deadline and cancellation), joining and leaving between iterations.
/// </remarks>
public sealed class DiffusionSampler
{
    public INoisePredictor Network { get; }
    public DiffusionScheduler Scheduler { get; }
    public SamplerOptions Options { get; }

    /// <summary>Trajectory length T.</summary>
    public int Horizon { get; }

    /// <summary>When set, every chunk adds the wall time of its phases to it (<c>bench sampler --profile</c>).</summary>
    public SamplerProfile? Profile { get; set; }

    public int ActionDim => Network.Config.InputDim;

    /// <param name="horizon">Trajectory length; defaults to the network config's <c>horizon</c>.</param>
    public DiffusionSampler(INoisePredictor network, DiffusionScheduler scheduler, SamplerOptions options, int? horizon = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Network = network;
        Scheduler = scheduler;
        Options = options;
        Horizon = horizon ?? network.Config.Horizon
            ?? throw new ArgumentException("The network config has no horizon: pass the trajectory length.", nameof(horizon));
        var factor = network.Config.LengthMultiple;
        if (Horizon <= 0 || Horizon % factor != 0)
            throw new ArgumentOutOfRangeException(nameof(horizon), Horizon, $"The horizon must be a positive multiple of {factor} for this network.");
    }

    /// <summary>Draws the chunk's noise from <paramref name="generator"/> (or the global generator) and samples.</summary>
    /// <param name="globalCond">(B, global_cond_dim) observation features.</param>
    /// <param name="cancellationToken">Checked before every network call; cancelling throws <see cref="OperationCanceledException"/>.</param>
    /// <param name="inpainting">Known actions to agree with (real-time chunking); null samples freely.</param>
    public SamplingResult Sample(Tensor globalCond, Generator? generator = null, CancellationToken cancellationToken = default, Inpainting? inpainting = null)
    {
        CheckCondition(globalCond);
        var started = Stopwatch.GetTimestamp();
        using var noise = DrawNoise(globalCond.shape[0], generator, globalCond.device);
        return Run(globalCond, noise, started, cancellationToken, inpainting);
    }

    /// <summary>Samples from given noise (e.g. to compare samplers on the same draw).</summary>
    public SamplingResult Sample(Tensor globalCond, SamplingNoise noise, Inpainting? inpainting = null)
    {
        ArgumentNullException.ThrowIfNull(noise);
        CheckCondition(globalCond);
        long[] expected = [globalCond.shape[0], Horizon, ActionDim];
        if (!noise.Initial.shape.SequenceEqual(expected))
            throw new ArgumentException($"x_T must be {Shapes.Format(expected)}, got {Shapes.Format(noise.Initial.shape)}.", nameof(noise));
        return Run(globalCond, noise, Stopwatch.GetTimestamp(), default, inpainting);
    }

    /// <summary>The noise <see cref="Sample(Tensor, Generator?)"/> would draw for a batch of <paramref name="batch"/>.</summary>
    public SamplingNoise DrawNoise(long batch, Generator? generator = null, Device? device = null) =>
        SamplingNoise.Draw(batch, Horizon, ActionDim, Scheduler.Steps,
            Enumerable.Range(0, Scheduler.Steps).Any(j => Scheduler.NoiseStd(j) > 0), generator, device);

    /// <summary>
    /// Samples what <paramref name="feed"/> hands in, together, until it has no more and none is running: ParaDiGMS
    /// with per-sample windows (or lock step, <see cref="SamplerOptions.BatchWindows"/>), anytime deadlines and
    /// per-sample cancellation. The sequential sampler runs each <see cref="ISampleFeed.Take"/> as one batch and
    /// ignores deadlines.
    /// </summary>
    /// <param name="stop">Checked before every network call; cancelling throws <see cref="OperationCanceledException"/>.</param>
    public void Serve(ISampleFeed feed, CancellationToken stop = default)
    {
        ArgumentNullException.ThrowIfNull(feed);
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var network = new NoiseNetwork(Network, Options.Method == SamplerMethod.Paradigms ? Options.Workers : 1) { Profile = Profile };
        if (Options.Method == SamplerMethod.Paradigms)
        {
            new ParadigmsSampler(network, Scheduler, Options, Horizon).Serve(new CheckedFeed(this, feed), stop);
            return;
        }
        while (feed.Take(0) is { Count: > 0 } requests)
        {
            foreach (var request in requests) Check(request);
            var started = Stopwatch.GetTimestamp();
            using var batch = NewDisposeScope();
            var cond = cat(requests.Select(r => r.GlobalCond).ToArray());
            using var noise = new SamplingNoise(
                cat(requests.Select(r => r.Noise.Initial).ToArray()),
                requests[0].Noise.Steps is null ? null : cat(requests.Select(r => r.Noise.Steps!).ToArray(), 1));
            using var inpainting = Inpainting.Concat(requests.Select(r => r.Inpainting).ToList(), Horizon, ActionDim, cond.device);
            var conditioning = Stopwatch.GetTimestamp();
            using var problem = new DenoisingProblem(Network, Scheduler, cond, noise, inpainting);
            Profile?.Lap(SamplerPhase.Conditioning, conditioning);
            var trajectory = SequentialSampler.Run(problem, network, stop, out var iterations, out var evaluations);
            var stats = new ChunkStats(Stopwatch.GetElapsedTime(started), iterations, evaluations, Scheduler.Steps, requests.Count);
            for (var i = 0; i < requests.Count; i++)
            {
                var cancelled = requests[i].Cancellation.IsCancellationRequested;
                feed.Finished(new SampleOutcome(
                    requests[i], cancelled ? SampleStatus.Cancelled : SampleStatus.Converged, cancelled ? null : trajectory[i..(i + 1)], stats,
                    new ConvergenceCertificate(Scheduler.Steps, Scheduler.Steps, 0, Options.Tolerance)));
            }
        }
    }

    SamplingResult Run(Tensor globalCond, SamplingNoise noise, long started, CancellationToken cancellationToken, Inpainting? inpainting)
    {
        using var scope = NewDisposeScope();
        var batch = globalCond.shape[0];
        var requests = new List<SampleRequest>((int)batch);
        for (var i = 0; i < batch; i++)
        {
            // Views of the batch's noise: SamplingNoise takes them out of the scope, so they are disposed below.
            var part = new SamplingNoise(noise.Initial[i..(i + 1)], noise.Steps?[.., i..(i + 1)]);
            var known = inpainting is null ? null : new Inpainting(inpainting.Known[i..(i + 1)], inpainting.Weights[i..(i + 1)]);
            requests.Add(new SampleRequest(globalCond[i..(i + 1)], part) { Inpainting = known, Tag = i });
        }
        var collected = new CollectingFeed(requests);
        try
        {
            Serve(collected, cancellationToken);
        }
        catch
        {
            foreach (var part in collected.Trajectories) part?.Dispose();
            throw;
        }
        finally
        {
            foreach (var request in requests)
            {
                request.Noise.Dispose();
                request.Inpainting?.Dispose();
            }
        }
        var trajectory = cat(collected.Trajectories);
        foreach (var part in collected.Trajectories) part.Dispose();
        if (!isfinite(trajectory).all().item<bool>())
            throw new InvalidOperationException("The sampled trajectory has non-finite values: check the network weights.");
        var stats = new ChunkStats(
            Stopwatch.GetElapsedTime(started), collected.Stats.Max(s => s.Iterations), (int)Math.Round(collected.Stats.Average(s => s.Evaluations)),
            Scheduler.Steps, (int)batch);
        return new SamplingResult(trajectory.MoveToOuterDisposeScope(), stats, collected.Certificates);
    }

    /// <summary>Hands in a fixed list of samples at once and keeps their trajectories in order.</summary>
    sealed class CollectingFeed(List<SampleRequest> requests) : ISampleFeed
    {
        bool taken;

        public Tensor[] Trajectories { get; } = new Tensor[requests.Count];
        public ChunkStats[] Stats { get; } = new ChunkStats[requests.Count];
        public ConvergenceCertificate[] Certificates { get; } = new ConvergenceCertificate[requests.Count];

        public IReadOnlyList<SampleRequest> Take(int running)
        {
            if (taken) return [];
            taken = true;
            return requests;
        }

        public void Finished(SampleOutcome outcome)
        {
            var i = (int)outcome.Request.Tag!;
            Trajectories[i] = outcome.Trajectory!.clone().DetachFromDisposeScope();
            Stats[i] = outcome.Stats;
            Certificates[i] = outcome.Certificate;
        }
    }

    /// <summary>Checks every sample a feed hands in before it joins a run.</summary>
    sealed class CheckedFeed(DiffusionSampler sampler, ISampleFeed inner) : ISampleFeed
    {
        public IReadOnlyList<SampleRequest> Take(int running)
        {
            var requests = inner.Take(running);
            foreach (var request in requests) sampler.Check(request);
            return requests;
        }

        public void Finished(SampleOutcome outcome) => inner.Finished(outcome);
    }

    void Check(SampleRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckCondition(request.GlobalCond);
        long[] expected = [1, Horizon, ActionDim];
        if (request.GlobalCond.shape[0] != 1 || !request.Noise.Initial.shape.SequenceEqual(expected))
            throw new ArgumentException($"A sample request is one sample: global_cond (1, {Network.Config.GlobalCondDim}) and x_T {Shapes.Format(expected)}, got {Shapes.Format(request.GlobalCond.shape)} and {Shapes.Format(request.Noise.Initial.shape)}.", nameof(request));
    }

    void CheckCondition(Tensor globalCond)
    {
        ArgumentNullException.ThrowIfNull(globalCond);
        if (globalCond.dim() != 2 || globalCond.shape[1] != Network.Config.GlobalCondDim || globalCond.shape[0] < 1)
        {
            throw new ArgumentException(
                $"global_cond must be (B, {Network.Config.GlobalCondDim}), got {Shapes.Format(globalCond.shape)}.", nameof(globalCond));
        }

        using var scope = NewDisposeScope();
        if (!isfinite(globalCond).all().item<bool>())
            throw new ArgumentException("global_cond contains NaN or infinite values.", nameof(globalCond));
    }
}
