namespace DiffPolicy.Policy.Sampling;

/// <summary>How the reverse process is run.</summary>
public enum SamplerMethod
{
    /// <summary>One network call per step.</summary>
    Sequential,

    /// <summary>Picard iterations over a sliding window of steps (Shih et al., 2023).</summary>
    Paradigms,
}

/// <summary>How ParaDiGMS windows advance when several samples run together.</summary>
public enum BatchWindows
{
    /// <summary>Each sample slides its own window and leaves when converged; samples join between iterations.</summary>
    PerSample,

    /// <summary>All windows slide by the slowest sample's acceptance; a batch starts and ends together.</summary>
    Lockstep,
}

/// <summary>Sampler settings; <see cref="Window"/> and <see cref="Tolerance"/> only matter for ParaDiGMS.</summary>
public sealed record SamplerOptions
{
    public SamplerMethod Method { get; init; } = SamplerMethod.Paradigms;

    /// <summary>P: steps evaluated together in one batched network call.</summary>
    public int Window { get; init; } = 16;

    /// <summary>τ: a step has converged when its squared update, divided by the step's DDPM variance and
    /// the number of elements of one sample, is at most τ². τ = 0 reproduces sequential sampling.</summary>
    public double Tolerance { get; init; } = 0.1;

    /// <summary>
    /// How the guesses of steps not yet evaluated are made. Warm (true): the first iteration evaluates
    /// the exact x_T alone, and every step entering the window starts from the solver's own roll-out
    /// with the newest model output held fixed (plus the step's pre-drawn noise). Cold (false): the paper's
    /// Algorithm 1, every guess a copy of the last latent. Both have the same fixed point (τ = 0
    /// reproduces sequential sampling either way); at τ &gt; 0 warm needs far fewer iterations and ends nearer the tolerance.
    /// </summary>
    public bool WarmStart { get; init; } = true;

    /// <summary>
    /// Threads that evaluate a ParaDiGMS window concurrently, each on its share of the window's steps.
    /// On a CPU with libtorch at one intra-op thread (<see cref="TorchRuntime.SetThreads"/>), 2 workers
    /// use both cores of a 2-core machine with one join per network call instead of one per operation.
    /// </summary>
    public int Workers { get; init; } = 1;

    /// <summary>How windows advance with several samples (<see cref="BatchWindows"/>); per-sample is chosen by measurement (docs/fleet.md).</summary>
    public BatchWindows BatchWindows { get; init; } = BatchWindows.PerSample;

    public void Validate()
    {
        if (Workers < 1) throw new ArgumentOutOfRangeException(nameof(Workers), Workers, "At least one worker evaluates the window.");
        if (Window < 1) throw new ArgumentOutOfRangeException(nameof(Window), Window, "The ParaDiGMS window must be at least 1.");
        if (!(Tolerance >= 0) || double.IsInfinity(Tolerance))
            throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "The ParaDiGMS tolerance must be finite and non-negative.");
    }
}
