using static TorchSharp.torch;

namespace DiffPolicy.Policy.Schedulers;

/// <summary>Which reverse process samples the policy, over the DDPM training schedule.</summary>
public enum SolverKind
{
    Ddpm,
    Ddim,
    DpmSolver,
}

/// <summary>
/// The noise scheduler as DiffusionPolicy configures diffusers' (squaredcos_cap_v2, clipped x̂0),
/// and the solver and step count used at inference.
/// </summary>
public sealed record NoiseSchedulerConfig
{
    public int NumTrainTimesteps { get; init; } = 100;
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;
    public bool ClipSample { get; init; } = true;
    public SolverKind Solver { get; init; } = SolverKind.Ddpm;

    /// <summary>Denoising steps at inference (100 = every training step for DDPM).</summary>
    public int InferenceSteps { get; init; } = 100;

    public void Validate()
    {
        if (NumTrainTimesteps < 2) throw new InvalidDataException($"num_train_timesteps must be at least 2, got {NumTrainTimesteps}.");
        if (InferenceSteps < 1 || InferenceSteps > NumTrainTimesteps)
            throw new InvalidDataException($"inference_steps must lie in [1, {NumTrainTimesteps}], got {InferenceSteps}.");
    }

    public DiffusionScheduler Create(NoiseSchedule schedule, Device? device = null) => Solver switch
    {
        SolverKind.Ddpm => new DdpmScheduler(schedule, InferenceSteps, PredictionType, ClipSample, device),
        SolverKind.Ddim => new DdimScheduler(schedule, InferenceSteps, PredictionType, ClipSample, device: device),
        _ => new DpmSolverMultistepScheduler(schedule, InferenceSteps, PredictionType, device),
    };
}
