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
    public Option<SolverKind?> Solver { get; } = new("--solver")
    {
        Description = "Reverse process: ddpm, ddim or dpm_solver (DPM-Solver++ 2M) (default: the checkpoint's, ddpm).",
        CustomParser = r => SnakeCaseEnum<SolverKind>(r),
    };
    public Option<int?> Steps { get; } = new("--steps") { Description = "Denoising steps (default: the checkpoint's, 100)." };
    public Option<SamplerMethod?> Sampler { get; } = new("--sampler")
    {
        Description = "paradigms (Picard iterations over a sliding window) or sequential (default: the checkpoint's, paradigms).",
        CustomParser = r => SnakeCaseEnum<SamplerMethod>(r),
    };
    public Option<int?> Window { get; } = new("--window") { Description = "ParaDiGMS window P: steps evaluated per batched network call." };
    public Option<double?> Tolerance { get; } = new("--tolerance") { Description = "ParaDiGMS tolerance τ (0 reproduces sequential sampling)." };
    public Option<int?> Workers { get; } = new("--workers")
    {
        Description = "ParaDiGMS threads that evaluate shares of each window concurrently; with more than one, libtorch runs one intra-op thread each unless --threads is given.",
    };

    /// <summary>Enum values spelled as in the JSON configs (snake_case), case-insensitive.</summary>
    static T? SnakeCaseEnum<T>(System.CommandLine.Parsing.ArgumentResult result) where T : struct, Enum
    {
        string text = result.Tokens.Single().Value;
        if (Enum.TryParse<T>(text.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var value)) return value;
        result.AddError($"'{text}' is not one of: {string.Join(", ", Enum.GetNames<T>().Select(System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName))}.");
        return null;
    }

    public Option<bool?> WarmStart { get; } = new("--warm-start")
    {
        Description = "ParaDiGMS guesses of steps not yet evaluated: true rolls the solver forward with the newest model output held fixed (default), false copies the last latent (the paper's Algorithm 1). Same limit as τ → 0; at τ > 0 warm ends nearer the tolerance in fewer iterations.",
    };

    public IEnumerable<Option> All => [Solver, Steps, Sampler, Window, Tolerance, Workers, WarmStart];

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
            Workers = parse.GetValue(Workers) ?? stored.Sampler.Workers,
            WarmStart = parse.GetValue(WarmStart) ?? stored.Sampler.WarmStart,
        };
        scheduler.Validate();
        sampler.Validate();
        return (scheduler, sampler);
    }

    public static string Describe(NoiseSchedulerConfig scheduler, SamplerOptions sampler) =>
        sampler.Method == SamplerMethod.Paradigms
            ? FormattableString.Invariant($"{scheduler.InferenceSteps}-step {Name(scheduler.Solver)}, ParaDiGMS (window {sampler.Window}, τ {sampler.Tolerance}, {sampler.Workers} worker{(sampler.Workers == 1 ? "" : "s")}, {(sampler.WarmStart ? "warm" : "cold")} start)")
            : FormattableString.Invariant($"{scheduler.InferenceSteps}-step {Name(scheduler.Solver)}, sequential");

    static string Name(SolverKind solver) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(solver.ToString());
}
