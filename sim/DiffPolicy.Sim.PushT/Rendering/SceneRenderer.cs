using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;
using SkiaSharp;

namespace DiffPolicy.Sim.PushT.Rendering;

/// <summary>
/// Draws the PushT scene as the original does (pygame, no anti-aliasing): white background, the goal T in
/// LightGreen, walls LightGray, the agent RoyalBlue with a lighter core, the block's two rectangles filled with
/// a lighter LightSlateGray and outlined in LightSlateGray, and the commanded target as a red cross.
/// </summary>
public static class SceneRenderer
{
    static readonly SKColor Background = new(255, 255, 255);
    static readonly SKColor Goal = new(144, 238, 144);
    static readonly SKColor Wall = new(211, 211, 211);
    static readonly SKColor Agent = new(65, 105, 225);
    static readonly SKColor BlockOutline = new(119, 136, 153);
    static readonly SKColor ActionMarker = new(255, 0, 0);

    /// <summary>The scene at <paramref name="size"/>×<paramref name="size"/> pixels (RGBA), with the target marker when given.</summary>
    public static SKBitmap Render(PushTEnv env, Vec2? action, int size)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 16);
        var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        var scale = (float)(size / PushTEnv.WorldSize);
        canvas.Scale(scale);
        DrawWorld(canvas, env);
        if (action is { } target)
        {
            DrawCross(canvas, target, 12f, 3f);
        }
        return bitmap;
    }

    /// <summary>
    /// The policy's image observation as the original's PushTImageEnv makes it: the scene drawn on the 512×512 canvas
    /// (pygame's integer pixel coordinates: positions rounded, a pixel is the point at its corner) and resized bilinearly
    /// (cv2.resize's INTER_LINEAR: half-pixel centres, no averaging over the pixels between samples) to
    /// <paramref name="size"/>×<paramref name="size"/> (render_size, 96), without the target marker (PushTImageEnv draws it
    /// on its render cache only). Returns size·size·3 RGB bytes, row-major: the wire's camera frame.
    /// </summary>
    public static byte[] Observation(PushTEnv env, int size = 96)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, 512);
        using var full = new SKBitmap(new SKImageInfo(512, 512, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(full))
        {
            canvas.Translate(0.5f, 0.5f);
            DrawWorld(canvas, env, pixelGrid: true);
        }
        using var small = full.Resize(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul), new SKSamplingOptions(SKFilterMode.Linear))
            ?? throw new InvalidOperationException("resizing the frame failed");
        var rgba = small.Bytes;
        var rgb = new byte[size * size * 3];
        for (var i = 0; i < size * size; i++)
        {
            rgb[3 * i] = rgba[4 * i];
            rgb[3 * i + 1] = rgba[4 * i + 1];
            rgb[3 * i + 2] = rgba[4 * i + 2];
        }
        return rgb;
    }

    /// <param name="pixelGrid">Round positions to whole pixels, as pygame draws (pymunk's to_pygame).</param>
    static void DrawWorld(SKCanvas canvas, PushTEnv env, bool pixelGrid = false)
    {
        Vec2 At(Vec2 p) => pixelGrid ? new Vec2(Math.Round(p.X, MidpointRounding.ToEven), Math.Round(p.Y, MidpointRounding.ToEven)) : p;
        canvas.Clear(Background);
        using var fill = new SKPaint { IsAntialias = false, Style = SKPaintStyle.Fill };
        using var stroke = new SKPaint { IsAntialias = false, Style = SKPaintStyle.Stroke, StrokeWidth = 4, StrokeCap = SKStrokeCap.Round, StrokeJoin = SKStrokeJoin.Round };

        fill.Color = Goal;
        foreach (var part in new[] { TeeShape.Bar, TeeShape.Stem })
        {
            using var path = Polygon(part, PushTEnv.Goal, At);
            canvas.DrawPath(path, fill);
        }

        stroke.Color = Wall;
        canvas.DrawLine(5, 506, 5, 5, stroke);
        canvas.DrawLine(5, 5, 506, 5, stroke);
        canvas.DrawLine(506, 5, 506, 506, stroke);
        canvas.DrawLine(5, 506, 506, 506, stroke);

        var agent = At(env.State.Agent);
        fill.Color = Agent;
        canvas.DrawCircle((float)agent.X, (float)agent.Y, 15, fill);
        fill.Color = Lighter(Agent);
        canvas.DrawCircle((float)agent.X, (float)agent.Y, 11, fill);

        var pose = env.BlockPose;
        foreach (var part in new[] { TeeShape.Bar, TeeShape.Stem })
        {
            using var path = Polygon(part, pose, At);
            fill.Color = Lighter(BlockOutline);
            canvas.DrawPath(path, fill);
            stroke.Color = BlockOutline;
            canvas.DrawPath(path, stroke);
        }
    }

    static void DrawCross(SKCanvas canvas, Vec2 at, float half, float width)
    {
        using var paint = new SKPaint { Color = ActionMarker, StrokeWidth = width, IsAntialias = false, Style = SKPaintStyle.Stroke };
        var x = (float)at.X;
        var y = (float)at.Y;
        canvas.DrawLine(x - half, y, x + half, y, paint);
        canvas.DrawLine(x, y - half, x, y + half, paint);
    }

    static SKPath Polygon(IReadOnlyList<Vec2> local, in Pose pose, Func<Vec2, Vec2> at)
    {
        using var builder = new SKPathBuilder();
        for (var i = 0; i < local.Count; i++)
        {
            var p = at(pose.Apply(local[i]));
            if (i == 0)
            {
                builder.MoveTo((float)p.X, (float)p.Y);
            }
            else
            {
                builder.LineTo((float)p.X, (float)p.Y);
            }
        }
        builder.Close();
        return builder.Detach();
    }

    /// <summary>The original's light_color: each channel ×1.2, capped at 255.</summary>
    static SKColor Lighter(SKColor c) => new(
        (byte)Math.Min(255, (int)(1.2f * c.Red)),
        (byte)Math.Min(255, (int)(1.2f * c.Green)),
        (byte)Math.Min(255, (int)(1.2f * c.Blue)));
}
