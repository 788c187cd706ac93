using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// Where each executed action came from, and the jerk it makes: a second difference |a[t+1] − 2a[t] + a[t−1]| (pixels
/// per step², Euclidean norm) is a <em>seam</em> jerk when its three actions do not all come from one chunk, an
/// <em>intra</em> jerk when they do. Triples that include a step before the first chunk (<see cref="Startup"/>) are
/// neither: the robot had not started, and the jump onto the first plan is not a seam between chunks.
/// </summary>
public static class ExecutedActions
{
    /// <summary>The source of an action the robot held (its own position) because no chunk planned the step: a deadline miss.</summary>
    public const int Held = -1;

    /// <summary>The source of a held action before the episode's first chunk was usable.</summary>
    public const int Startup = -2;

    /// <param name="actions">Executed actions, one per step.</param>
    /// <param name="sources">Per step, the index of the chunk that planned the action, <see cref="Held"/> or <see cref="Startup"/>.</param>
    public static (List<double> Seam, List<double> Intra) Jerks(IReadOnlyList<Vec2> actions, IReadOnlyList<int> sources)
    {
        ArgumentNullException.ThrowIfNull(actions);
        ArgumentNullException.ThrowIfNull(sources);
        if (actions.Count != sources.Count) throw new ArgumentException($"{actions.Count} actions but {sources.Count} sources.", nameof(sources));
        var seam = new List<double>();
        var intra = new List<double>();
        for (var t = 1; t + 1 < actions.Count; t++)
        {
            int a = sources[t - 1], b = sources[t], c = sources[t + 1];
            if (a == Startup || b == Startup || c == Startup) continue;
            var jerk = (actions[t + 1] - 2 * actions[t] + actions[t - 1]).Length;
            (a == b && b == c ? intra : seam).Add(jerk);
        }
        return (seam, intra);
    }
}
