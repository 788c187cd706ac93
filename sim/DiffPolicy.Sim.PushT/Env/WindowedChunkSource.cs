using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// An <see cref="IChunkSource"/> for a policy in this process: observes each step with its <see cref="PushTObserver"/>,
/// keeps the last <c>n_obs_steps</c> observations and hands them to the policy oldest first (requestChunk: given the
/// step, the window (<see cref="PushTObservation.Stack"/>) and the robot's prior or null, returns the actions to execute
/// next); at the start of an episode the first observation is repeated.
/// </summary>
public sealed class WindowedChunkSource : IChunkSource
{
    readonly int nObsSteps;
    readonly PushTObserver observer;
    readonly Func<long, PushTObservation, ActionPrior?, IReadOnlyList<Vec2>> requestChunk;
    readonly List<PushTObservation> history = [];

    public WindowedChunkSource(int nObsSteps, PushTObserver observer, Func<long, PushTObservation, ActionPrior?, IReadOnlyList<Vec2>> requestChunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nObsSteps, 1);
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentNullException.ThrowIfNull(requestChunk);
        this.nObsSteps = nObsSteps;
        this.observer = observer;
        this.requestChunk = requestChunk;
    }

    public IReadOnlyList<Vec2>? Observe(long step, PushTEnv env, bool request, ActionPrior? prior = null)
    {
        history.Add(observer.Observe(env));
        if (history.Count > nObsSteps) history.RemoveAt(0);
        return request ? requestChunk(step, Window(), prior) : null;
    }

    PushTObservation Window()
    {
        var missing = nObsSteps - history.Count;
        return PushTObservation.Stack([.. Enumerable.Range(0, nObsSteps).Select(k => history[Math.Max(0, k - missing)])]);
    }
}
