using DiffPolicy.Sim.PushT.Env;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>How evaluation episodes run against the policy (docs/realtime.md).</summary>
public enum EvalMode
{
    /// <summary>The simulation waits for every chunk: the papers' protocol.</summary>
    Lockstep,

    /// <summary>Deterministic simulated latency: a chunk asked for at step k is usable at step k + d.</summary>
    Latency,

    /// <summary>The wall-clock 10 Hz robot against the policy server, as <c>pusht robot --mode realtime</c>.</summary>
    Realtime,
}

/// <summary>An evaluation's mode, its latency in steps (latency mode; the frozen steps a real-time robot sends, null to estimate) and its seam.</summary>
/// <param name="DeadlineMs">deadline_ms the robot sends with every request (anytime chunks, docs/protocol.md §4a); null: none.</param>
public sealed record Execution(EvalMode Mode = EvalMode.Lockstep, int? LatencySteps = null, ChunkSeam Seam = ChunkSeam.Naive, double? DeadlineMs = null)
{
    public static Execution Lockstep { get; } = new();
}

/// <summary>One episode as a runner ran it.</summary>
/// <param name="Sources">Per executed step, the chunk that planned its action or <see cref="ExecutedActions.Held"/>.</param>
/// <param name="StartupTicks">Steps held before the first chunk was usable.</param>
/// <param name="DeadlineMisses">Steps held after it.</param>
/// <param name="Refused">Requests the policy server refused as overloaded (asked again at the next step).</param>
public sealed record EpisodeRun(Episode Episode, IReadOnlyList<ChunkTiming> Chunks, IReadOnlyList<int> Sources, int StartupTicks = 0, int DeadlineMisses = 0, int Refused = 0);
