using System.Diagnostics;
using System.Text.Json;
using DiffPolicy.Cli.Serving;
using DiffPolicy.Control;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Import;
using DiffPolicy.Policy.Sampling;
using DiffPolicy.Policy.Schedulers;
using Xunit.Abstractions;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// A <see cref="DiffusionPolicy"/> served through <see cref="DiffusionChunkPolicy"/> (the TorchSharp side of serving,
/// which Control does not reference): camera frames become the policy's inputs, and the Python example robot is
/// served by an imported image checkpoint.
/// </summary>
public class ServingTests(ITestOutputHelper output)
{
    [Fact]
    public void The_python_example_robot_sends_camera_frames_to_an_imported_image_policy()
    {
        // diffusion_policy's own image checkpoint (tests/fixtures/dp), imported and served; 10 DDIM steps keep chunks quick.
        var directory = Directory.CreateTempSubdirectory("dp-image-serve-").FullName;
        try
        {
            using (var imported = DiffusionPolicyImporter.Read(Fixtures.Dp("image_pusht.ckpt")))
                imported.Save(Path.Combine(directory, "policy"));
            var stored = PolicyConfig.Load(Path.Combine(directory, "policy", "policy.json"));
            using var policy = DiffusionPolicy.Load(Path.Combine(directory, "policy"),
                scheduler: stored.Scheduler with { Solver = SolverKind.Ddim, InferenceSteps = 10 },
                sampler: new SamplerOptions { Method = SamplerMethod.Sequential });
            using var chunkPolicy = new DiffusionChunkPolicy(policy);
            using var run = new BackgroundServer(chunkPolicy, "tcp://127.0.0.1:*");
            var summary = NumpyPython.RunRobot(output, run.Endpoint, "--duration", "6");

            Assert.Equal(["image"], summary.GetProperty("cameras").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal(0, summary.GetProperty("protocol_errors").GetInt32());
            Assert.True(summary.GetProperty("chunks").GetInt32() >= 1, "no chunk for the camera frames");
            Assert.True(summary.GetProperty("actions_executed").GetInt32() >= 1, "no action executed");
            Assert.True(run.Server.Stats.Chunks >= 1);
            Assert.Empty(run.Server.Stats.Errors);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Camera_frames_become_channels_first_over_255_as_diffusion_policy_datasets_do()
    {
        // A 2 × 2 frame, two steps; the reference is numpy's np.moveaxis(frames, -1, 1) / 255 written out by hand.
        var config = new PolicyConfig
        {
            ObsDim = 512 + 2,
            ActionDim = 2,
            Model = new DiffPolicy.Policy.Network.ConditionalUnet1DConfig { InputDim = 2, GlobalCondDim = 2 * (512 + 2), DownDims = [16, 32] },
            Observations = [new("cam", [3, 2, 2], "rgb"), new("agent_pos", [2], "low_dim")],
            ObsEncoder = new(),
        };
        byte[] frames = [.. Enumerable.Range(0, 24).Select(i => (byte)(10 * i))];
        var window = new ObservationWindow("r", 0, 1, 2, new Dictionary<string, float[]> { ["agent_pos"] = [1, 2, 3, 4] })
        {
            Frames = new Dictionary<string, byte[]> { ["cam"] = frames },
        };
        var inputs = DiffusionChunkPolicy.PolicyInputs(config, window);
        var expected = new float[24];
        for (var step = 0; step < 2; step++)
        {
            for (var c = 0; c < 3; c++)
            {
                for (var p = 0; p < 4; p++)
                    expected[(step * 12) + (c * 4) + p] = frames[(step * 12) + (p * 3) + c] / 255f;
            }
        }

        Assert.Equal(expected, inputs["cam"]);
        Assert.Equal([1f, 2, 3, 4], inputs["agent_pos"]);
        var metadata = DiffusionChunkPolicy.MetadataOf(config);
        Assert.Equal(new[] { "cam", "agent_pos" }, metadata.ObsKeys.Select(k => k.Name));
        Assert.Equal([2, 2, 3], metadata.ObsKeys[0].Shape);
        Assert.True(metadata.ObsKeys[0].IsRgb);
    }
}
