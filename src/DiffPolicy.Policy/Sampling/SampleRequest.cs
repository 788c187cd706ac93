using static TorchSharp.torch;

namespace DiffPolicy.Policy.Sampling;

/// <summary>
/// One sample of a batched sampling run (<see cref="DiffusionSampler.Serve"/>): its own conditioning and noise, an
/// optional deadline and its own cancellation. Samples of one run never influence each other: with the same noise a
/// sample's trajectory is its trajectory alone.
/// </summary>
/// <param name="GlobalCond">(1, global_cond_dim) observation features.</param>
/// <param name="Noise">x_T (1, horizon, action_dim) and the step noise, e.g. from <see cref="DiffusionSampler.DrawNoise"/> with batch 1.</param>
public sealed record SampleRequest(Tensor GlobalCond, SamplingNoise Noise)
{
    /// <summary>
    /// <see cref="System.Diagnostics.Stopwatch"/> timestamp by which the sample must be done (anytime sampling): once the
    /// next iteration would end after it, the sample stops with its converged prefix and the current x̂0 for the rest
    /// (<see cref="SampleStatus.DeadlineReached"/>). Null: run to convergence. ParaDiGMS only; the sequential sampler ignores it.
    /// May be moved while the sample runs (read before every iteration).
    /// </summary>
    public long? Deadline { get; set; }

    /// <summary>Cancelling drops the sample from the run at the next iteration (<see cref="SampleStatus.Cancelled"/>); the others go on.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Known actions to agree with (real-time chunking), batch 1; null samples freely. Owned by the caller.</summary>
    public Inpainting? Inpainting { get; init; }

    /// <summary>The caller's own reference, handed back with the outcome.</summary>
    public object? Tag { get; init; }
}

/// <summary>How a sample left its run.</summary>
public enum SampleStatus
{
    /// <summary>Every step accepted within τ: the chunk is the sampler's answer.</summary>
    Converged,

    /// <summary>Stopped at its deadline: converged prefix, then x̂0 of the current iterate (see <see cref="ConvergenceCertificate"/>).</summary>
    DeadlineReached,

    /// <summary>Its cancellation token fired; no trajectory.</summary>
    Cancelled,
}

/// <summary>
/// What a trajectory is worth. ParaDiGMS accepts step j once its latest update moved x_{j+1} by at most τ (relative to
/// the step's DDPM standard deviation, per element; <see cref="SamplerOptions.Tolerance"/>).
/// </summary>
/// <param name="ConvergedSteps">Steps 0 … ConvergedSteps−1 accepted; equals <paramref name="Steps"/> when converged.</param>
/// <param name="Steps">Denoising steps S.</param>
/// <param name="MaxError">
/// Converged: the largest error any step had when it was accepted (≤ τ). Stopped early: the largest error among the steps
/// of the window not yet accepted, in the same units — how far the returned x̂0 rests on unconverged latents.
/// 0 for the sequential sampler, whose steps are exact.
/// </param>
/// <param name="Tolerance">τ the errors are measured against.</param>
public sealed record ConvergenceCertificate(int ConvergedSteps, int Steps, double MaxError, double Tolerance)
{
    public bool Converged => ConvergedSteps == Steps;
}

/// <summary>A finished sample.</summary>
/// <param name="Trajectory">(1, horizon, action_dim); null when cancelled. Owned by the sampler: valid only during
/// <see cref="ISampleFeed.Finished"/>, so copy what is kept.</param>
/// <param name="Stats">Wall time from joining the run, the run's iterations while it took part, its own evaluations.</param>
public sealed record SampleOutcome(SampleRequest Request, SampleStatus Status, Tensor? Trajectory, ChunkStats Stats, ConvergenceCertificate Certificate);

/// <summary>
/// Where a batched run (<see cref="DiffusionSampler.Serve"/>) gets its samples and delivers them. Called on the
/// sampling thread only, between network calls.
/// </summary>
public interface ISampleFeed
{
    /// <summary>
    /// Samples to start now (may be empty). <paramref name="running"/> samples are in the run. The run ends when
    /// none is running and this returns none.
    /// </summary>
    IReadOnlyList<SampleRequest> Take(int running);

    /// <summary>A sample left the run (converged, deadline, cancelled).</summary>
    void Finished(SampleOutcome outcome);
}
