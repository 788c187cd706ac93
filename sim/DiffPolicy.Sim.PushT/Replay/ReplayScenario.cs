using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Replay;

/// <summary>A replay request: start from a seed's reset or an explicit state, then apply the actions.</summary>
public sealed record ReplayScenario(long? Seed, PushTState? InitialState, IReadOnlyList<Vec2> Actions);

/// <summary>
/// A replayed trajectory: the state the episode started from, one state row per reset and per action
/// (agent x, y, block x, y, block angle unwrapped) and the coverage of each row.
/// </summary>
public sealed record ReplayResult(PushTState InitialState, IReadOnlyList<PushTState> States, IReadOnlyList<double> Coverage)
{
    /// <summary>Replays a scenario; <paramref name="observe"/> sees the environment before each action and after the last.</summary>
    public static ReplayResult Run(ReplayScenario scenario, Action<PushTEnv, Vec2?>? observe = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var initial = scenario.InitialState
            ?? (scenario.Seed is { } seed ? PushTState.Sample(seed) : throw new ArgumentException("a scenario needs a seed or an initial state"));
        var env = new PushTEnv(initial);
        var states = new List<PushTState>(scenario.Actions.Count + 1) { env.State };
        var coverage = new List<double>(scenario.Actions.Count + 1) { env.Coverage };
        Vec2? last = null;
        foreach (var action in scenario.Actions)
        {
            observe?.Invoke(env, last);
            coverage.Add(env.Step(action).Coverage);
            states.Add(env.State);
            last = action;
        }
        observe?.Invoke(env, last);
        return new ReplayResult(initial, states, coverage);
    }
}
