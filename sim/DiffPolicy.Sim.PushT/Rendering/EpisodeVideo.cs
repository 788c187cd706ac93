using DiffPolicy.Data;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Rendering;

/// <summary>An episode as an animated GIF at 10 frames per second (the control rate), one frame per observation.</summary>
public sealed class EpisodeVideo(int size = 256)
{
    readonly GifWriter gif = new(size, size, delayCentiseconds: 10);

    public int Frames => gif.Frames;

    /// <summary>Adds the scene as it is now, with the last commanded target when there is one.</summary>
    public void Add(PushTEnv env, Vec2? action)
    {
        using var frame = SceneRenderer.Render(env, action, size);
        gif.Add(frame.GetPixelSpan());
    }

    /// <summary>Writes the GIF atomically (a temporary file renamed over <paramref name="path"/>).</summary>
    public void Save(string path) => AtomicFile.Write(path, gif.Save);
}
