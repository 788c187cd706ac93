using System.Collections.Concurrent;
using DiffPolicy.Protocol;
using ActionChunk = DiffPolicy.Protocol.ActionChunk;

namespace DiffPolicy.Control.Tests;

/// <summary>The server with a policy that declares a camera: u8 frames reach the policy's window in order, sizes are checked.</summary>
public class CameraObservationTests
{
    sealed class CameraPolicy : IChunkPolicy
    {
        public PolicyMetadata Metadata { get; } = new(
            [new ObsKey("agent_pos", [2]), new ObsKey("cam", [4, 5, 3], ObsKey.Rgb)], NObsSteps: 2, Horizon: 16, NActionSteps: 8, ActionDim: 2, ControlHz: 10);

        public ConcurrentQueue<ObservationWindow> Windows { get; } = new();

        public InferenceResult Infer(ObservationWindow window, CancellationToken cancellationToken)
        {
            Windows.Enqueue(window);
            return new InferenceResult(new float[Metadata.PredictedSteps * 2], 1, 1);
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
    public void A_stateless_infer_brings_its_own_frames_and_a_window_of_one_frame_is_bad_shape()
    {
        var policy = new CameraPolicy();
        using var run = new ServerRun(policy);
        using var robot = new TestRobot(run.Endpoint, "anon");
        byte[] frames = [.. Frame(30), .. Frame(40)];
        Assert.True(robot.Link.Send(new InferRequest(5, 2, 9, 0.9, new Dictionary<string, float[]> { ["agent_pos"] = [8, 0, 9, 0] })
        {
            Frames = new Dictionary<string, byte[]> { ["cam"] = frames },
        }));
        Assert.Equal(5UL, robot.Expect<ActionChunk>().ObsSeq);
        var window = Assert.Single(policy.Windows);
        Assert.True(window.Stateless);
        Assert.Equal(frames, window.Frames["cam"]);

        Assert.True(robot.Link.Send(new InferRequest(6, 2, 10, 1.0, new Dictionary<string, float[]> { ["agent_pos"] = [8, 0, 9, 0] })
        {
            Frames = new Dictionary<string, byte[]> { ["cam"] = Frame(40) },
        }));
        var error = robot.Expect<ProtocolError>();
        Assert.Equal((ErrorCodes.BadShape, 6UL), (error.Code, error.Seq));
        Assert.Contains("'cam' has 60 bytes", error.Text, StringComparison.Ordinal);
        Assert.Contains("n_obs_steps", error.Text, StringComparison.Ordinal);
    }
}
