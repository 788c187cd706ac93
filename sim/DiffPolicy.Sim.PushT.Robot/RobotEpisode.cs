using DiffPolicy.Sim.PushT.Env;

namespace DiffPolicy.Sim.PushT.Robot;

/// <summary>One episode of the simulated robot: the simulation's record plus how the control loop kept up.</summary>
/// <param name="Chunks">Chunks received for this episode.</param>
/// <param name="DeadlineMisses">Ticks after the first chunk with no planned action (the robot held position): real time, latency, and lockstep requests refused as overloaded.</param>
/// <param name="StartupTicks">Ticks held before the episode's first chunk arrived (not counted as misses).</param>
/// <param name="SkippedSteps">Real time: steps skipped because a tick ran late.</param>
/// <param name="DroppedActions">Real time: actions that arrived for a step already begun.</param>
/// <param name="Rehellos">Sessions reopened after the server lost this robot (restart, timeout).</param>
/// <param name="Sources">Per executed step, the chunk that planned its action or <see cref="ExecutedActions.Held"/>.</param>
public sealed record RobotEpisode(
    Episode Episode, int Chunks, int DeadlineMisses, int StartupTicks, int SkippedSteps, int DroppedActions, int Rehellos,
    IReadOnlyList<ChunkTiming> Timings, IReadOnlyList<int> Sources)
{
    /// <summary>Requests the server refused with <c>overloaded</c> (asked again at the next tick).</summary>
    public int Overloaded { get; init; }

    /// <summary>Real time: the longest run of consecutive deadline misses, in ticks (the longest time without a plan).</summary>
    public int LongestMissRun { get; init; }

    /// <summary>
    /// Real time: requests given up on after <see cref="PushTRobotOptions.RequestTimeout"/> without their chunk once the episode's
    /// first chunk had come (lost, or slower than the timeout), each asked again.
    /// </summary>
    public int TimedOut { get; init; }
}
