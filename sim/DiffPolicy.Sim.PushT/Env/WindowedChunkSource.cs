using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// An <see cref="IChunkSource"/> for a policy in this process: keeps the last <c>n_obs_steps</c> observations and
/// hands them to the policy oldest first; at the start of an episode the first observation is repeated.
/// </summary>
/// <param name="requestChunk">Given the step, n_obs_steps × 18 keypoint values and the robot's prior (or null), returns the actions to execute next.</param>
public sealed class WindowedChunkSource : IChunkSource
{
    readonly int nObsSteps;
    readonly Func<long, float[], ActionPrior?, IReadOnlyList<Vec2>> requestChunk;
    readonly List<float[]> history = [];

    public WindowedChunkSource(int nObsSteps, Func<long, float[], ActionPrior?, IReadOnlyList<Vec2>> requestChunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nObsSteps, 1);
        ArgumentNullException.ThrowIfNull(requestChunk);
        this.nObsSteps = nObsSteps;
        this.requestChunk = requestChunk;
    }

    public IReadOnlyList<Vec2>? Observe(long step, float[] keypoints, bool request, ActionPrior? prior = null)
    {
        ArgumentNullException.ThrowIfNull(keypoints);
        history.Add(keypoints);
        if (history.Count > nObsSteps) history.RemoveAt(0);
        return request ? requestChunk(step, Window(), prior) : null;
    }

    float[] Window()
    {
        var width = history[0].Length;
        var window = new float[nObsSteps * width];
        var missing = nObsSteps - history.Count;
        for (var k = 0; k < nObsSteps; k++)
            history[Math.Max(0, k - missing)].CopyTo(window, k * width);
        return window;
    }
}
