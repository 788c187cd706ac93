using System.CommandLine;
using System.Text.Json;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Sampling;
using DiffPolicy.Policy.Schedulers;

namespace DiffPolicy.Cli.Commands;

/// <summary>Inference settings asked for on the command line; null keeps the checkpoint's stored setting.</summary>
internal sealed record SamplingSettings(
    SolverKind? Solver = null, int? Steps = null, SamplerMethod? Sampler = null, int? Window = null, double? Tolerance = null, int? Workers = null, bool? WarmStart = null)
{
    /// <summary>The stored settings with these overrides, validated.</summary>
    public (NoiseSchedulerConfig Scheduler, SamplerOptions Sampler) Resolve(PolicyConfig stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var scheduler = stored.Scheduler with
        {
            Solver = Solver ?? stored.Scheduler.Solver,
            InferenceSteps = Steps ?? stored.Scheduler.InferenceSteps,
        };
        var sampler = stored.Sampler with
        {
            Method = Sampler ?? stored.Sampler.Method,
            Window = Window ?? stored.Sampler.Window,
            Tolerance = Tolerance ?? stored.Sampler.Tolerance,
            Workers = Workers ?? stored.Sampler.Workers,
            WarmStart = WarmStart ?? stored.Sampler.WarmStart,
        };
        try
        {
            scheduler.Validate();
        }
        catch (InvalidDataException e)
        {
            throw new CliInputException("--steps", e.Message, e);
        }
        sampler.Validate();
        return (scheduler, sampler);
    }

    public static string Describe(NoiseSchedulerConfig scheduler, SamplerOptions sampler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(sampler);
        return sampler.Method == SamplerMethod.Paradigms
            ? FormattableString.Invariant($"{scheduler.InferenceSteps}-step {SolverNames.Name(scheduler.Solver)}, ParaDiGMS (window {sampler.Window}, τ {sampler.Tolerance}, {sampler.Workers} worker{(sampler.Workers == 1 ? "" : "s")}, {(sampler.WarmStart ? "warm" : "cold")} start)")
            : FormattableString.Invariant($"{scheduler.InferenceSteps}-step {SolverNames.Name(scheduler.Solver)}, sequential");
    }
}

/// <summary>
/// The inference options of every verb that runs a policy (eval, serve, soak): solver, steps, sampler, window,
/// tolerance, workers, warm start. Unset options keep the checkpoint's stored settings.
/// </summary>
internal sealed class SamplingOptions
{
    public const int MaxSteps = 1000, MaxWindow = 1000, MaxWorkers = 64;

    public Option<SolverKind?> Solver { get; } = CliOptions.OptionalChoice<SolverKind>("--solver", "Reverse process, dpm_solver being DPM-Solver++ 2M (default: the checkpoint's, ddpm).");

    public Option<int?> Steps { get; } = CliOptions.OptionalInt("--steps", "Denoising steps, at most the checkpoint's num_train_timesteps (default: the checkpoint's, 100).", 1, MaxSteps);

    public Option<SamplerMethod?> Sampler { get; } = CliOptions.OptionalChoice<SamplerMethod>("--sampler",
        "paradigms (Picard iterations over a sliding window) or sequential (default: the checkpoint's, paradigms).");

    public Option<int?> Window { get; } = CliOptions.OptionalInt("--window", "ParaDiGMS window P: steps evaluated per batched network call.", 1, MaxWindow);

    public Option<double?> Tolerance { get; } = CliOptions.OptionalDouble("--tolerance", "ParaDiGMS tolerance τ (0 reproduces sequential sampling).", 0, 100);

    public Option<int?> Workers { get; } = CliOptions.OptionalInt("--workers",
        "ParaDiGMS threads that evaluate shares of each window concurrently; with more than one, libtorch runs one intra-op thread each unless --threads is given.", 1, MaxWorkers);

    public Option<bool?> WarmStart { get; } = CliOptions.OptionalBool("--warm-start",
        "ParaDiGMS guesses of steps not yet evaluated: true rolls the solver forward with the newest model output held fixed (default), false copies the last latent (the paper's Algorithm 1). Same limit as τ → 0; at τ > 0 warm ends nearer the tolerance in fewer iterations.");

    public IEnumerable<Option> All => [Solver, Steps, Sampler, Window, Tolerance, Workers, WarmStart];

    public SamplingSettings Bind(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return new(parse.GetValue(Solver), parse.GetValue(Steps), parse.GetValue(Sampler), parse.GetValue(Window), parse.GetValue(Tolerance),
            parse.GetValue(Workers), parse.GetValue(WarmStart));
    }
}
