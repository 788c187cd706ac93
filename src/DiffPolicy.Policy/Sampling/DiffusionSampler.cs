using System.Diagnostics;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Sampling;

/// <summary>An action trajectory and what it cost.</summary>
/// <param name="Trajectory">(B, horizon, action_dim), owned by the caller.</param>
public sealed record SamplingResult(Tensor Trajectory, ChunkStats Stats) : IDisposable
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
/// thread-safe: use one sampler per inference thread.
/// </remarks>
public sealed class DiffusionSampler
{
    public INoisePredictor Network { get; }
    public DiffusionScheduler Scheduler { get; }
    public SamplerOptions Options { get; }

    /// <summary>Trajectory length T.</summary>
    public int Horizon { get; }

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
        int factor = 1 << (network.Config.DownDims.Count - 1);
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
            throw new ArgumentException($"x_T must be ({string.Join(", ", expected)}), got ({string.Join(", ", noise.Initial.shape)}).", nameof(noise));
        return Run(globalCond, noise, Stopwatch.GetTimestamp(), default, inpainting);
    }

    /// <summary>The noise <see cref="Sample(Tensor, Generator?)"/> would draw for a batch of <paramref name="batch"/>.</summary>
    public SamplingNoise DrawNoise(long batch, Generator? generator = null, Device? device = null) =>
        SamplingNoise.Draw(batch, Horizon, ActionDim, Scheduler.Steps,
            Enumerable.Range(0, Scheduler.Steps).Any(j => Scheduler.NoiseStd(j) > 0), generator, device);

    SamplingResult Run(Tensor globalCond, SamplingNoise noise, long started, CancellationToken cancellationToken, Inpainting? inpainting)
    {
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        bool parallel = Options.Method == SamplerMethod.Paradigms;
        using var problem = new DenoisingProblem(Network, Scheduler, globalCond, noise, parallel ? Options.Workers : 1, inpainting);
        int iterations, evaluations;
        var trajectory = parallel
            ? ParadigmsSampler.Run(problem, Options, cancellationToken, out iterations, out evaluations)
            : SequentialSampler.Run(problem, cancellationToken, out iterations, out evaluations);
        if (!isfinite(trajectory).all().item<bool>())
            throw new InvalidOperationException("The sampled trajectory has non-finite values: check the network weights.");
        var stats = new ChunkStats(Stopwatch.GetElapsedTime(started), iterations, evaluations, Scheduler.Steps, (int)globalCond.shape[0]);
        return new SamplingResult(trajectory.MoveToOuterDisposeScope(), stats);
    }

    void CheckCondition(Tensor globalCond)
    {
        ArgumentNullException.ThrowIfNull(globalCond);
        if (globalCond.dim() != 2 || globalCond.shape[1] != Network.Config.GlobalCondDim || globalCond.shape[0] < 1)
            throw new ArgumentException(
                $"global_cond must be (B, {Network.Config.GlobalCondDim}), got ({string.Join(", ", globalCond.shape)}).", nameof(globalCond));
        using var scope = NewDisposeScope();
        if (!isfinite(globalCond).all().item<bool>())
            throw new ArgumentException("global_cond contains NaN or infinite values.", nameof(globalCond));
    }
}
