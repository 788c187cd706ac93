using System.CommandLine;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Sampling;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// The inference options every verb that runs a policy shares (eval, serve, soak): solver, steps,
/// sampler, window, tolerance. Unset options keep the checkpoint's stored settings.
/// </summary>
internal sealed class SamplingOptions
{
    public Option<SolverKind?> Solver { get; } = new("--solver") { Description = "Reverse process: ddpm, ddim or dpmsolver (default: the checkpoint's, ddpm)." };
    public Option<int?> Steps { get; } = new("--steps") { Description = "Denoising steps (default: the checkpoint's, 100)." };
    public Option<SamplerMethod?> Sampler { get; } = new("--sampler") { Description = "paradigms (Picard iterations over a sliding window) or sequential (default: the checkpoint's, paradigms)." };
    public Option<int?> Window { get; } = new("--window") { Description = "ParaDiGMS window P: steps evaluated per batched network call." };
    public Option<double?> Tolerance { get; } = new("--tolerance") { Description = "ParaDiGMS tolerance τ (0 reproduces sequential sampling)." };

    public IEnumerable<Option> All => [Solver, Steps, Sampler, Window, Tolerance];

    public (NoiseSchedulerConfig Scheduler, SamplerOptions Sampler) Resolve(ParseResult parse, PolicyConfig stored)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(stored);
        var scheduler = stored.Scheduler with
        {
            Solver = parse.GetValue(Solver) ?? stored.Scheduler.Solver,
            InferenceSteps = parse.GetValue(Steps) ?? stored.Scheduler.InferenceSteps,
        };
        var sampler = stored.Sampler with
        {
            Method = parse.GetValue(Sampler) ?? stored.Sampler.Method,
            Window = parse.GetValue(Window) ?? stored.Sampler.Window,
            Tolerance = parse.GetValue(Tolerance) ?? stored.Sampler.Tolerance,
        };
        scheduler.Validate();
        sampler.Validate();
        return (scheduler, sampler);
    }

    public static string Describe(NoiseSchedulerConfig scheduler, SamplerOptions sampler) =>
        sampler.Method == SamplerMethod.Paradigms
            ? FormattableString.Invariant($"{scheduler.InferenceSteps}-step {scheduler.Solver}, ParaDiGMS (window {sampler.Window}, τ {sampler.Tolerance})")
            : FormattableString.Invariant($"{scheduler.InferenceSteps}-step {scheduler.Solver}, sequential");
}
