using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;
using DiffPolicy.Sim.PushT.Rendering;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// Episodes recorded as animated GIFs into a folder (<c>--video DIR</c>): the one loop every verb that runs episodes
/// uses. The first <paramref name="limit"/> episodes are recorded; with no folder, none are.
/// </summary>
internal sealed class VideoFolder(string? folder, int limit = int.MaxValue)
{
    int recorded;

    /// <summary>
    /// Runs an episode with an observer that records its frames (or none) and saves them as <c>NAME.gif</c> when
    /// <paramref name="run"/> returns.
    /// </summary>
    public T Record<T>(string name, Func<Action<PushTEnv, Vec2?>?, T> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var clip = folder is not null && recorded < limit ? new EpisodeVideo() : null;
        var result = run(clip is null ? null : clip.Add);
        if (clip is not null)
        {
            clip.Save(Path.Combine(folder!, name + ".gif"));
            recorded++;
        }
        return result;
    }
}
