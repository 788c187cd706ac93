using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Schedulers;

/// <summary>Which reverse process samples the policy, over the DDPM training schedule.</summary>
public enum SolverKind
{
    Ddpm,
    Ddim,

    /// <summary>DPM-Solver++ 2M.</summary>
    DpmSolver,
}

/// <summary>The solvers' names as configs and the command line spell them (snake_case), and their parsing.</summary>
public static class SolverNames
{
    static readonly Dictionary<string, SolverKind> ByName = Enum.GetValues<SolverKind>().ToDictionary(Name, StringComparer.Ordinal);

    /// <summary>The config name: ddpm, ddim, dpm_solver.</summary>
    public static string Name(SolverKind solver) => Enum.IsDefined(solver)
        ? JsonNamingPolicy.SnakeCaseLower.ConvertName(solver.ToString())
        : throw new ArgumentOutOfRangeException(nameof(solver), solver, "not a solver");

    /// <summary>The short label of benchmark tables: DDPM, DDIM, DPM++2M.</summary>
    public static string Label(SolverKind solver) => solver switch
    {
        SolverKind.Ddpm => "DDPM",
        SolverKind.Ddim => "DDIM",
        SolverKind.DpmSolver => "DPM++2M",
        _ => throw new ArgumentOutOfRangeException(nameof(solver), solver, "not a solver"),
    };

    /// <summary>The solver called <paramref name="name"/>; an unknown name is refused in one line naming <paramref name="key"/>.</summary>
    public static SolverKind Parse(string? name, string key) => name is not null && ByName.TryGetValue(name, out var solver)
        ? solver
        : throw new InvalidDataException($"{key}: unknown solver '{name}'; expected one of {string.Join(", ", ByName.Keys)}.");
}

/// <summary>Reads and writes <see cref="SolverKind"/> by name only: a number or an unknown name is refused naming the key.</summary>
sealed class SolverKindJsonConverter : JsonConverter<SolverKind>
{
    public override SolverKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var name = reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null => Encoding.UTF8.GetString(reader.ValueSpan),
            _ => $"{reader.TokenType}",
        };
        try
        {
            return SolverNames.Parse(name, "scheduler.solver");
        }
        catch (InvalidDataException e)
        {
            throw new JsonException(e.Message, e);
        }
    }

    public override void Write(Utf8JsonWriter writer, SolverKind value, JsonSerializerOptions options) => writer.WriteStringValue(SolverNames.Name(value));
}

/// <summary>
/// The noise scheduler as DiffusionPolicy configures diffusers' (squaredcos_cap_v2, clipped x̂0),
/// and the solver and step count used at inference. <see cref="Create"/> is the one scheduler factory.
/// </summary>
public sealed record NoiseSchedulerConfig
{
    public int NumTrainTimesteps { get; init; } = 100;
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;
    public bool ClipSample { get; init; } = true;
    [JsonConverter(typeof(SolverKindJsonConverter))]
    public SolverKind Solver { get; init; } = SolverKind.Ddpm;

    /// <summary>Denoising steps at inference (100 = every training step for DDPM).</summary>
    public int InferenceSteps { get; init; } = 100;

    public void Validate()
    {
        Check.Require(NumTrainTimesteps >= 2, $"num_train_timesteps must be at least 2, got {NumTrainTimesteps}.");
        Check.Require(InferenceSteps >= 1 && InferenceSteps <= NumTrainTimesteps, $"inference_steps must lie in [1, {NumTrainTimesteps}], got {InferenceSteps}.");
        Check.Require(Enum.IsDefined(Solver), $"scheduler.solver: unknown solver {(int)Solver}; expected one of ddpm, ddim, dpm_solver.");
        Check.Require(Enum.IsDefined(PredictionType), $"scheduler.prediction_type: unknown prediction type {(int)PredictionType}; expected epsilon or sample.");
    }

    /// <summary>The scheduler of this config over <paramref name="schedule"/> (num_train_timesteps of it).</summary>
    public DiffusionScheduler Create(NoiseSchedule schedule, Device? device = null) => Solver switch
    {
        SolverKind.Ddpm => new DdpmScheduler(schedule, InferenceSteps, PredictionType, ClipSample, device),
        SolverKind.Ddim => new DdimScheduler(schedule, InferenceSteps, PredictionType, ClipSample, device: device),
        SolverKind.DpmSolver => new DpmSolverMultistepScheduler(schedule, InferenceSteps, PredictionType, device),
        _ => throw new ArgumentOutOfRangeException(nameof(Solver), Solver, "scheduler.solver: not a solver"),
    };
}
