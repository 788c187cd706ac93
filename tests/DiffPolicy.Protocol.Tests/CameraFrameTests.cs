namespace DiffPolicy.Protocol.Tests;

/// <summary>Camera frames on the wire (docs/protocol.md, "Camera frames"): typed obs keys in welcome, u8 bins, frame-size limits.</summary>
public class CameraFrameTests
{
    static readonly PolicyMetadata WithCamera = new(
        [new ObsKey("agent_pos", [2]), new ObsKey("image", [4, 5, 3], ObsKey.Rgb)], NObsSteps: 2, Horizon: 16, NActionSteps: 8, ActionDim: 2, ControlHz: 10);

    [Fact]
    public void Welcome_carries_each_keys_type_and_a_key_without_one_is_low_dim()
    {
        var welcome = Assert.IsType<Welcome>(MessageCodec.Decode(MessageCodec.Encode(new Welcome(1, "arm", "diffpolicy", WithCamera, 10, 1 << 20))));
        Assert.Equal([ObsKey.LowDim, ObsKey.Rgb], welcome.Policy.ObsKeys.Select(k => k.Type));
        Assert.Equal([4, 5, 3], welcome.Policy.ObsKeys[1].Shape);

        // A server from before image support writes {"name", "shape"} only.
        var old = Frames.Of(new Dictionary<string, object?>
        {
            ["type"] = "welcome",
            ["protocol"] = 1,
            ["robot"] = "arm",
            ["server"] = "s",
            ["n_obs_steps"] = 2,
            ["horizon"] = 16,
            ["n_action_steps"] = 8,
            ["action_dim"] = 2,
            ["control_hz"] = 10.0,
            ["robot_timeout_s"] = 10.0,
            ["max_frame_bytes"] = 1 << 20,
            ["obs_keys"] = new object[] { new Dictionary<string, object?> { ["name"] = "keypoint", ["shape"] = new[] { 18 } } },
        });
        var key = Assert.Single(Assert.IsType<Welcome>(MessageCodec.Decode(old)).Policy.ObsKeys);
        Assert.Equal(("keypoint", ObsKey.LowDim), (key.Name, key.Type));
        Assert.Equal([18], key.Shape);
    }

    [Fact]
    public void An_rgb_key_travels_as_u8_bytes_and_low_dim_keys_as_float32()
    {
        var pixels = Enumerable.Range(0, 4 * 5 * 3).Select(i => (byte)(i * 4)).ToArray();
        var sent = new Observation(3, 0, 7, 0.7, true, new Dictionary<string, float[]> { ["agent_pos"] = [1.5f, -2f] })
        {
            Frames = new Dictionary<string, byte[]> { ["image"] = pixels },
        };
        var frame = MessageCodec.Encode(sent);
        // u8: the 60 pixel bytes are in the frame as they are, not widened to float32.
        Assert.InRange(frame.Length, 60 + 8, 60 + 120);

        var limits = ProtocolLimits.Default.For(WithCamera);
        var received = Assert.IsType<Observation>(MessageCodec.Decode(frame, limits));
        Assert.Equal(pixels, received.Frames["image"]);
        Assert.Equal([1.5f, -2f], received.Data["agent_pos"]);
        Assert.False(received.Data.ContainsKey("image"));

        // The same bytes from a plain dictionary, as a Python robot writes them.
        var plain = Frames.Obs(data: new Dictionary<string, object?> { ["agent_pos"] = Frames.Floats(1, 2), ["image"] = pixels });
        Assert.Equal(pixels, Assert.IsType<Observation>(MessageCodec.Decode(Frames.Of(plain), limits)).Frames["image"]);
    }

    [Fact]
    public void A_stateless_infer_carries_its_window_of_frames_as_one_u8_bin_per_camera()
    {
        // Two steps of a 4×5 camera, oldest first, and two steps of agent_pos.
        var window = Enumerable.Range(0, 2 * 4 * 5 * 3).Select(i => (byte)(255 - i)).ToArray();
        var sent = new InferRequest(9, 3, 41, 4.1, new Dictionary<string, float[]> { ["agent_pos"] = [1, 2, 3, 4] })
        {
            Frames = new Dictionary<string, byte[]> { ["image"] = window },
            DeadlineMs = 90,
        };
        var frame = MessageCodec.Encode(sent);
        Assert.InRange(frame.Length, 120 + 16, 120 + 140);
        var received = Assert.IsType<InferRequest>(MessageCodec.Decode(frame, ProtocolLimits.Default.For(WithCamera)));
        Assert.Equal(window, received.Frames["image"]);
        Assert.Equal([1f, 2, 3, 4], received.Data["agent_pos"]);
        Assert.Equal(90.0, received.DeadlineMs);

        // A Python robot's plain dictionary reads the same.
        var plain = Frames.Obs(data: new Dictionary<string, object?> { ["agent_pos"] = Frames.Floats(1, 2, 3, 4), ["image"] = window });
        plain["type"] = "infer";
        Assert.Equal(window, Assert.IsType<InferRequest>(MessageCodec.Decode(Frames.Of(plain), ProtocolLimits.Default.For(WithCamera))).Frames["image"]);
    }

    [Fact]
    public void An_infer_without_cameras_is_byte_for_byte_what_python_msgpack_writes()
    {
        // Python's msgpack (what the example robots use) packing the documented map is the reference: camera support did not
        // change a keypoint robot's bytes.
        var keypoints = new InferRequest(7, 100_001, 12, 1.25, new Dictionary<string, float[]> { ["keypoint"] = [1.5f, -2f, 3f, 4f] });
        var hex = DiffPolicy.Tests.NumpyPython.Run("""
            import msgpack, struct
            obs = {"keypoint": struct.pack("<4f", 1.5, -2.0, 3.0, 4.0)}
            print(msgpack.packb({"type": "infer", "seq": 7, "episode": 100001, "step": 12, "t": 1.25, "obs": obs}).hex())
            """).Trim();
        Assert.Equal(hex, Convert.ToHexStringLower(MessageCodec.Encode(keypoints)));
    }

    [Fact]
    public void The_frame_limit_grows_with_the_declared_cameras()
    {
        Assert.Equal(1 << 20, ProtocolLimits.Default.For(WithCamera).MaxFrameBytes);
        var twoBigCameras = WithCamera with
        {
            ObsKeys = [new ObsKey("left", [480, 640, 3], ObsKey.Rgb), new ObsKey("right", [480, 640, 3], ObsKey.Rgb), new ObsKey("eef", [7])],
        };
        var limits = ProtocolLimits.Default.For(twoBigCameras);
        // A stateless infer carries n_obs_steps (2) observations of every key.
        Assert.Equal((2 * ((2 * 480 * 640 * 3) + (7 * 4))) + ProtocolLimits.FrameOverheadBytes, limits.MaxFrameBytes);
        Assert.Equal(["left", "right"], limits.RgbKeys.Order());
    }
}
