using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;
using DiffPolicy.Sim.PushT.Rendering;
using SkiaSharp;

namespace DiffPolicy.Sim.PushT.Tests;

public class RenderingTests
{
    [Fact]
    public void Gif_frames_decode_back_to_the_rendered_pixels()
    {
        // Skia's own GIF decoder is the reference: every frame must come back pixel for pixel.
        var env = new PushTEnv(100001);
        var gif = new GifWriter(128, 128, 10);
        var rendered = new List<byte[]>();
        for (var step = 0; step < 6; step++)
        {
            var action = new Vec2(200 + 20 * step, 300 - 15 * step);
            using var frame = SceneRenderer.Render(env, action, 128);
            var pixels = frame.GetPixelSpan().ToArray();
            rendered.Add(pixels);
            gif.Add(pixels);
            env.Step(action);
        }
        using var stream = new MemoryStream();
        gif.Save(stream);
        stream.Position = 0;
        using var codec = SKCodec.Create(stream);
        Assert.NotNull(codec);
        Assert.Equal(SKEncodedImageFormat.Gif, codec.EncodedFormat);
        Assert.Equal(rendered.Count, codec.FrameCount);
        Assert.All(codec.FrameInfo, f => Assert.Equal(100, f.Duration));
        var info = new SKImageInfo(128, 128, SKColorType.Rgba8888, SKAlphaType.Premul);
        for (var i = 0; i < rendered.Count; i++)
        {
            using var decoded = new SKBitmap(info);
            Assert.Equal(SKCodecResult.Success, codec.GetPixels(info, decoded.GetPixels(), new SKCodecOptions(i)));
            Assert.Equal(rendered[i], decoded.GetPixelSpan().ToArray());
        }
    }

    [Fact]
    public void Scene_shows_goal_block_agent_and_target_in_their_colours()
    {
        var env = new PushTEnv(new PushTState(100, 400, 350, 120, 0.0));
        using var frame = SceneRenderer.Render(env, new Vec2(450, 450), 512);
        SKColor At(Vec2 p) => frame.GetPixel((int)p.X, (int)p.Y);
        Assert.Equal(new SKColor(255, 255, 255), At(new Vec2(60, 60)));
        Assert.Equal(new SKColor(144, 238, 144), At(PushTEnv.Goal.Apply(new Vec2(0, 70))));
        Assert.Equal(new SKColor(142, 163, 183), At(env.BlockPose.Apply(new Vec2(0, 15))));
        Assert.Equal(new SKColor(65, 105, 225), At(new Vec2(100 + 13, 400)));
        Assert.Equal(new SKColor(255, 0, 0), At(new Vec2(450, 450)));
    }

    [Fact]
    public void Image_observation_is_96_by_96_rgb()
    {
        var env = new PushTEnv(new PushTState(100, 400, 350, 120, 0.0));
        var image = SceneRenderer.Observation(env);
        Assert.Equal(96 * 96 * 3, image.Length);
        // The agent's core at (100, 400) lands near pixel (18.75, 75): a blue-dominated pixel.
        var offset = (75 * 96 + 19) * 3;
        Assert.True(image[offset + 2] > image[offset] + 60, "agent pixel is not blue");
        // The goal's centre of its bar, (256, 256) + R(π/4)·(0, 15), lands on LightGreen (144, 238, 144).
        var goal = PushTEnv.Goal.Apply(new Vec2(0, 15));
        offset = ((int)(goal.Y / 512 * 96) * 96 + (int)(goal.X / 512 * 96)) * 3;
        Assert.Equal([144, 238, 144], image[offset..(offset + 3)]);
    }
}
