namespace DiffPolicy.Sim.PushT.Robot;

/// <summary>How the simulated robot keeps time (docs/protocol.md §4).</summary>
public enum RobotMode
{
    /// <summary>The simulator waits for each chunk: the papers' evaluation protocol.</summary>
    Lockstep,

    /// <summary>
    /// Deterministic simulated latency: the simulator waits for each chunk, as in lockstep, but uses it only
    /// <see cref="PushTRobotOptions.LatencySteps"/> steps after asking, executing its plan meanwhile (<see cref="Task.LatencyController"/>).
    /// </summary>
    Latency,

    /// <summary>Wall-clock ticks at the policy's control rate; late actions are dropped, a tick without one is a deadline miss.</summary>
    RealTime,
}
