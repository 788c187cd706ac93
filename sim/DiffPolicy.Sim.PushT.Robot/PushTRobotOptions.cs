using DiffPolicy.Protocol;
using DiffPolicy.Sim.PushT.Env;

namespace DiffPolicy.Sim.PushT.Robot;

/// <summary>How a <see cref="PushTRobot"/> behaves.</summary>
public sealed record PushTRobotOptions
{
    /// <summary>The robot's name on the server: 1–64 of [A-Za-z0-9_.-].</summary>
    public string Name { get; init; } = "pusht";

    public RobotMode Mode { get; init; } = RobotMode.Lockstep;

    /// <summary>
    /// Latency mode: steps from a request to its chunk being usable. Real time: the steps the robot says are frozen
    /// when it sends its plan (<see cref="ChunkSeam.Inpaint"/>); null estimates them from the last round trips.
    /// </summary>
    public int? LatencySteps { get; init; }

    /// <summary>How a newer chunk takes over from the plan (latency and real-time modes).</summary>
    public ChunkSeam Seam { get; init; } = ChunkSeam.Naive;

    /// <summary>Real time: ask for the next chunk when this many planned actions remain (default: <see cref="DefaultLead"/>).</summary>
    public int? Lead { get; init; }

    /// <summary>
    /// The actions a chunk carries beyond n_action_steps (horizon − n_obs_steps + 1 − n_action_steps): the next chunk is
    /// asked for once n_action_steps of the newest one have begun, so the robot replans every n_action_steps steps as
    /// DiffusionPolicy does, and the rest of the prediction carries it through up to that many steps of inference
    /// latency. Half of n_action_steps when a chunk has no such rest.
    /// </summary>
    public static int DefaultLead(PolicyMetadata policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.RealTimeLead;
    }

    /// <summary>
    /// Real time: ask with stateless <c>infer</c> requests carrying the last n_obs_steps observations, and send nothing
    /// on the other ticks: no session is needed, so any server behind a broker can answer (docs/protocol.md).
    /// </summary>
    public bool Stateless { get; init; }

    /// <summary><c>deadline_ms</c> sent with each request, in every mode (anytime answers, docs/protocol.md §4a); null sends none.</summary>
    public double? DeadlineMs { get; init; }

    /// <summary>Real time: ask again when a requested chunk has not come after this long (lost or superseded).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The server is given up on (an exception) after this long without any message from it.</summary>
    public TimeSpan ServerTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
