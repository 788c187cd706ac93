using System.Collections.Concurrent;
using DiffPolicy.Policy;
using ActionChunk = DiffPolicy.Protocol.ActionChunk;
using DiffPolicy.Protocol;

namespace DiffPolicy.Control.Tests;

/// <summary>The server with a policy that declares a camera: u8 frames reach the policy's window in order, sizes are checked.</summary>
public class CameraObservationTests
{
    sealed class CameraPolicy : IChunkPolicy
    {
        public PolicyMetadata Metadata { get; } = new(
            [new ObsKey("agent_pos", [2]), new ObsKey("cam", [4, 5, 3], ObsKey.Rgb)], NObsSteps: 2, Horizon: 16, NActionSteps: 8, ActionDim: 2, ControlHz: 10);

        public ConcurrentQueue<ObservationWindow> Windows { get; } = new();

        public ActionChunkResult Infer(ObservationWindow window, CancellationToken cancellationToken)
        {
            Windows.Enqueue(window);
            return new ActionChunkResult(new float[Metadata.PredictedSteps * 2], 1, 1);
        }

        public void Reset(string robot)
        {
        }
    }

    static byte[] Frame(byte value) => Enumerable.Repeat(value, 4 * 5 * 3).ToArray();

    static Observation Obs(ulong seq, long step, byte pixel, int frameBytes = 60) =>
        new(seq, 0, step, step * 0.1, true, new Dictionary<string, float[]> { ["agent_pos"] = [step, 0] })
        {
            Frames = new Dictionary<string, byte[]> { ["cam"] = Enumerable.Repeat(pixel, frameBytes).ToArray() },
        };

    [Fact]
    public void Frames_reach_the_window_oldest_first_and_the_welcome_declares_the_camera()
    {
        var policy = new CameraPolicy();
        using var run = new ServerRun(policy);
        using var robot = new TestRobot(run.Endpoint, "cam-robot");
        var welcome = robot.Hello();
        Assert.Equal(ObsKey.Rgb, welcome.Policy.Find("cam")!.Type);

        Assert.True(robot.Link.Send(Obs(1, 0, 10)));
        Assert.Equal(1UL, robot.Expect<ActionChunk>().ObsSeq);
        Assert.True(robot.Link.Send(Obs(2, 1, 20)));
        Assert.Equal(2UL, robot.Expect<ActionChunk>().ObsSeq);

        var windows = policy.Windows.ToArray();
        // Step 0 is padded with itself (as DiffusionPolicy pads); step 1 sees steps 0 and 1.
        Assert.Equal([.. Frame(10), .. Frame(10)], windows[0].Frames["cam"]);
        Assert.Equal([.. Frame(10), .. Frame(20)], windows[1].Frames["cam"]);
        Assert.Equal([0f, 0, 1, 0], windows[1].Data["agent_pos"]);
    }

    [Fact]
    public void A_frame_of_the_wrong_size_is_bad_shape()
    {
        using var run = new ServerRun(new CameraPolicy());
        using var robot = new TestRobot(run.Endpoint, "cam-robot");
        robot.Hello();
        Assert.True(robot.Link.Send(Obs(1, 0, 10, frameBytes: 59)));
        var error = robot.Expect<ProtocolError>();
        Assert.Equal(ErrorCodes.BadShape, error.Code);
        Assert.Contains("'cam' has 59 bytes", error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Camera_frames_become_channels_first_over_255_as_diffusion_policy_datasets_do()
    {
        // A 2 × 2 frame, two steps; the reference is numpy's np.moveaxis(frames, -1, 1) / 255 written out by hand.
        var config = new PolicyConfig
        {
            ObsDim = 512 + 2,
            ActionDim = 2,
            Model = new Policy.Network.ConditionalUnet1DConfig { InputDim = 2, GlobalCondDim = 2 * (512 + 2), DownDims = [16, 32] },
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
        for (int step = 0; step < 2; step++)
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 4; p++)
                    expected[(step * 12) + (c * 4) + p] = frames[(step * 12) + (p * 3) + c] / 255f;
        Assert.Equal(expected, inputs["cam"]);
        Assert.Equal([1f, 2, 3, 4], inputs["agent_pos"]);
        var metadata = DiffusionChunkPolicy.MetadataOf(config);
        Assert.Equal(new[] { "cam", "agent_pos" }, metadata.ObsKeys.Select(k => k.Name));
        Assert.Equal([2, 2, 3], metadata.ObsKeys[0].Shape);
        Assert.True(metadata.ObsKeys[0].IsRgb);
    }
}
