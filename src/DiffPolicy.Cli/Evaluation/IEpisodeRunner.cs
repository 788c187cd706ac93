using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>How evaluation episodes reach the policy: in this process, or through a policy server.</summary>
public interface IEpisodeRunner : IDisposable
{
    /// <summary>Reported as the evaluation's transport: direct, inproc, tcp, or the remote server's endpoint.</summary>
    string Transport { get; }

    /// <summary>One episode from <paramref name="seed"/>'s reset in the runner's <see cref="Execution"/>, and the timing of its chunks.</summary>
    EpisodeRun Run(long seed, int maxSteps, Action<PushTEnv, Vec2?>? observe);
}
