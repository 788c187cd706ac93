using DiffPolicy.Data;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;
using SkiaSharp;

namespace DiffPolicy.Sim.PushT.Rendering;

/// <summary>Single frames as PNG files.</summary>
public static class FrameFile
{
    public static void SavePng(PushTEnv env, Vec2? action, int size, string path)
    {
        using var frame = SceneRenderer.Render(env, action, size);
        using var data = frame.Encode(SKEncodedImageFormat.Png, 100) ?? throw new InvalidOperationException("PNG encoding failed");
        AtomicFile.Write(path, data.SaveTo);
    }
}
