using MessagePack;

namespace DiffPolicy.Protocol.Tests;

/// <summary>
/// The additions for fleets (docs/protocol.md): stateless <c>infer</c>, <c>deadline_ms</c>, the chunk's certificate.
/// They are optional keys and one new type, so frames without them are byte for byte what version 1 always sent.
/// </summary>
public class FleetMessageTests
{
    static T RoundTrip<T>(T message) where T : Message => Assert.IsType<T>(MessageCodec.Decode(MessageCodec.Encode(message)));

    static Dictionary<string, object?> Map(byte[] frame) =>
        MessagePackSerializer.Deserialize<Dictionary<string, object?>>(frame);

    [Fact]
    public void Infer_deadline_and_certificate_survive_a_round_trip()
    {
        var infer = RoundTrip(new InferRequest(4, 2, 40, 1.25, new Dictionary<string, float[]> { ["agent_pos"] = [1, 2, 3, 4] }) { DeadlineMs = 120 });
        Assert.Equal((4UL, 2L, 40L, 1.25, 120.0), (infer.Seq, infer.Episode, infer.Step, infer.Time, infer.DeadlineMs!.Value));
        Assert.Equal([1f, 2, 3, 4], infer.Data["agent_pos"]);
        Assert.Null(RoundTrip(new InferRequest(4, 2, 40, 1.25, new Dictionary<string, float[]> { ["a"] = [1] })).DeadlineMs);

        var obs = RoundTrip(new Observation(5, 2, 40, 12.5, true, new Dictionary<string, float[]> { ["agent_pos"] = [1.5f, -2f] }) { DeadlineMs = 80 });
        Assert.Equal(80.0, obs.DeadlineMs);

        var certificate = new ChunkCertificate(23, 100, 0.51, 0.1);
        var chunk = RoundTrip(new ActionChunk(5, 12.5, 2, 40, 0.1, 2, 2, [1, 2, 3, 4], new ServerTiming(0.5, 30, 12, 96)) { Certificate = certificate });
        Assert.Equal(certificate, chunk.Certificate);
        Assert.False(chunk.Certificate!.Converged);
        Assert.True(new ChunkCertificate(100, 100, 0.07, 0.1).Converged);
    }

    [Fact]
    public void Without_the_new_keys_frames_are_what_version_1_sent()
    {
        var chunk = new ActionChunk(5, 12.5, 2, 40, 0.1, 2, 2, [1, 2, 3, 4], new ServerTiming(0.5, 30, 12, 96));
        Assert.Equal(
            ["type", "obs_seq", "obs_t", "episode", "start_step", "dt", "n_actions", "action_dim", "actions", "queue_ms", "infer_ms", "iterations", "evals"],
            Map(MessageCodec.Encode(chunk)).Keys);
        var obs = new Observation(5, 2, 40, 12.5, true, new Dictionary<string, float[]> { ["agent_pos"] = [1.5f, -2f] });
        Assert.Equal(["type", "seq", "episode", "step", "t", "infer", "obs"], Map(MessageCodec.Encode(obs)).Keys);
        var certified = Map(MessageCodec.Encode(chunk with { Certificate = new ChunkCertificate(100, 100, 0.05, 0.1) }));
        Assert.Equal(["converged_steps", "denoising_steps", "max_error", "tolerance"], certified.Keys.Skip(13));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-5.0)]
    [InlineData(600_001.0)]
    public void A_deadline_outside_its_range_is_a_bad_message(double deadline)
    {
        var map = Frames.Obs(seq: 12);
        map["deadline_ms"] = deadline;
        var error = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(Frames.Of(map)));
        Assert.Equal(ErrorCodes.BadMessage, error.Code);
        Assert.Equal(12UL, error.Seq);
        Assert.Contains("deadline_ms", error.Message);
    }

    [Fact]
    public void An_infer_frame_written_from_a_plain_dictionary_decodes()
    {
        var frame = Frames.Of(new Dictionary<string, object?>
        {
            ["type"] = "infer",
            ["seq"] = 3,
            ["episode"] = 1,
            ["step"] = 9,
            ["t"] = 0.5,
            ["deadline_ms"] = 150,
            ["obs"] = new Dictionary<string, object?> { ["agent_pos"] = Frames.Floats(1, 2, 3, 4) },
        });
        var infer = Assert.IsType<InferRequest>(MessageCodec.Decode(frame));
        Assert.Equal((3UL, 9L, 150.0), (infer.Seq, infer.Step, infer.DeadlineMs!.Value));
    }
}
