using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Task;

/// <summary>
/// Runs an action-chunking policy one control step at a time, as DiffusionPolicy's MultiStepWrapper
/// does: it records the keypoint observation of every step, and when the previous chunk is used up
/// asks for a new one from the last <c>n_obs_steps</c> observations (oldest first; at the start of an
/// episode the first observation is repeated). Use one controller per episode.
/// </summary>
public sealed class ChunkedController
{
    readonly int nObsSteps;
    readonly Func<float[], IReadOnlyList<Vec2>> requestChunk;
    readonly List<float[]> history = [];
    readonly Queue<Vec2> pending = new();

    /// <param name="nObsSteps">Observations per request.</param>
    /// <param name="requestChunk">Given n_obs_steps × 18 keypoint values, returns the actions to execute next.</param>
    public ChunkedController(int nObsSteps, Func<float[], IReadOnlyList<Vec2>> requestChunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nObsSteps, 1);
        ArgumentNullException.ThrowIfNull(requestChunk);
        this.nObsSteps = nObsSteps;
        this.requestChunk = requestChunk;
    }

    /// <summary>Chunks requested so far.</summary>
    public int Chunks { get; private set; }

    public Vec2 Act(PushTEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        history.Add(Array.ConvertAll(env.Keypoints(), v => (float)v));
        if (history.Count > nObsSteps) history.RemoveAt(0);
        if (pending.Count == 0)
        {
            var chunk = requestChunk(Window());
            if (chunk.Count == 0) throw new InvalidOperationException("The policy returned an empty action chunk.");
            foreach (var action in chunk) pending.Enqueue(action);
            Chunks++;
        }
        return pending.Dequeue();
    }

    float[] Window()
    {
        int width = history[0].Length;
        var window = new float[nObsSteps * width];
        int missing = nObsSteps - history.Count;
        for (int k = 0; k < nObsSteps; k++)
            history[Math.Max(0, k - missing)].CopyTo(window, k * width);
        return window;
    }
}
