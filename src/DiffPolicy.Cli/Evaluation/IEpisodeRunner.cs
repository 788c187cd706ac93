using DiffPolicy.Sim.PushT.Physics;
using DiffPolicy.Sim.PushT.Task;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>How evaluation episodes reach the policy: in this process, or through a policy server.</summary>
public interface IEpisodeRunner : IDisposable
{
    /// <summary>Reported as the evaluation's transport: direct, inproc, tcp, or the remote server's endpoint.</summary>
    string Transport { get; }

    /// <summary>One lockstep episode from <paramref name="seed"/>'s reset, and the timing of its chunks.</summary>
    (Episode Episode, IReadOnlyList<ChunkTiming> Chunks) Run(long seed, int maxSteps, Action<PushTEnv, Vec2?>? observe);
}
