namespace DiffPolicy.Protocol.Tests;

public class MessageCodecTests
{
    static readonly PolicyMetadata Metadata = new([new ObsKey("agent_pos", [2]), new ObsKey("image", [3, 4, 4])], 2, 16, 8, 2, 10);

    static T RoundTrip<T>(T message) where T : Message => Assert.IsType<T>(MessageCodec.Decode(MessageCodec.Encode(message)));

    static string CodeOf(byte[] frame) => Assert.Throws<ProtocolException>(() => MessageCodec.Decode(frame)).Code;

    [Fact]
    public void Every_message_survives_a_round_trip()
    {
        Assert.Equal(new Hello(1, "arm-1"), RoundTrip(new Hello(1, "arm-1")));
        Assert.Equal(new Ping(7, 0.25), RoundTrip(new Ping(7, 0.25)));
        Assert.Equal(new Pong(7, 0.25, true), RoundTrip(new Pong(7, 0.25, true)));
        Assert.Equal(new ProtocolError("bad_shape", "x", 3), RoundTrip(new ProtocolError("bad_shape", "x", 3)));
        Assert.Equal(new ProtocolError("bad_frame", "y", null), RoundTrip(new ProtocolError("bad_frame", "y", null)));
        RoundTrip(new Reset());
        RoundTrip(new Bye());

        var welcome = RoundTrip(new Welcome(1, "arm-1", "diffpolicy", Metadata, 10, 1 << 20));
        Assert.Equal(["agent_pos", "image"], welcome.Policy.ObsKeys.Select(k => k.Name));
        Assert.Equal([3, 4, 4], welcome.Policy.ObsKeys[1].Shape);
        Assert.Equal((2, 16, 8, 2, 10.0), (welcome.Policy.NObsSteps, welcome.Policy.Horizon, welcome.Policy.NActionSteps, welcome.Policy.ActionDim, welcome.Policy.ControlHz));

        var obs = RoundTrip(new Observation(5, 2, 40, 12.5, false, new Dictionary<string, float[]> { ["agent_pos"] = [1.5f, -2f] }));
        Assert.Equal((5UL, 2L, 40L, 12.5, false), (obs.Seq, obs.Episode, obs.Step, obs.Time, obs.Infer));
        Assert.Equal([1.5f, -2f], obs.Data["agent_pos"]);

        var chunk = RoundTrip(new ActionChunk(5, 12.5, 2, 40, 0.1, 2, 2, [1, 2, 3, 4], new ServerTiming(0.5, 30, 12, 96)));
        Assert.Equal((5UL, 40L, 2, 2), (chunk.ObsSeq, chunk.StartStep, chunk.Count, chunk.ActionDim));
        Assert.Equal([1f, 2f, 3f, 4f], chunk.Values);
        Assert.Equal(new ServerTiming(0.5, 30, 12, 96), chunk.Timing);
    }

    [Fact]
    public void A_frame_written_from_a_plain_dictionary_decodes()
    {
        var obs = Assert.IsType<Observation>(MessageCodec.Decode(Frames.Of(Frames.Obs(seq: 9, step: 3))));
        Assert.Equal((9UL, 3L, true), (obs.Seq, obs.Step, obs.Infer));
        Assert.Equal([1f, 2f], obs.Data["agent_pos"]);
    }

    [Fact]
    public void Unknown_keys_are_ignored()
    {
        var map = Frames.Obs();
        map["extra"] = new Dictionary<string, object?> { ["nested"] = new object[] { 1, "two" } };
        Assert.IsType<Observation>(MessageCodec.Decode(Frames.Of(map)));
    }

    [Fact]
    public void Malformed_frames_are_bad_frames()
    {
        Assert.Equal(ErrorCodes.BadFrame, CodeOf([]));
        Assert.Equal(ErrorCodes.BadFrame, CodeOf([0xc1]));
        Assert.Equal(ErrorCodes.BadFrame, CodeOf(Frames.Of(Frames.Obs())[..^3]));
        Assert.Equal(ErrorCodes.BadFrame, CodeOf([.. Frames.Of(Frames.Obs()), 0x00]));
        Assert.Equal(ErrorCodes.BadFrame, CodeOf([0x93, 1, 2, 3]));
        Assert.Equal(ErrorCodes.BadFrame, CodeOf([0x81, 0x01, 0x02]));
    }

    [Fact]
    public void Deep_nesting_is_refused_without_recursing()
    {
        // 100,000 nested one-element arrays under an unknown key.
        var frame = new List<byte> { 0x82, 0xa4, (byte)'t', (byte)'y', (byte)'p', (byte)'e', 0xa3, (byte)'b', (byte)'y', (byte)'e', 0xa1, (byte)'x' };
        frame.AddRange(Enumerable.Repeat((byte)0x91, 100_000));
        frame.Add(0x00);
        Assert.Equal(ErrorCodes.BadFrame, CodeOf([.. frame]));
    }

    [Fact]
    public void Oversized_frames_and_containers_are_refused()
    {
        Assert.Equal(ErrorCodes.TooLarge, CodeOf(new byte[(1 << 20) + 1]));
        var map = Frames.Obs();
        map["obs"] = Enumerable.Range(0, 100).ToDictionary(i => $"k{i}", object? (_) => Frames.Floats(1));
        Assert.Equal(ErrorCodes.BadFrame, CodeOf(Frames.Of(map)));
        Assert.Equal(ErrorCodes.BadFrame, CodeOf(Frames.Of(new() { ["type"] = new string('x', 5000) })));
    }

    [Fact]
    public void Wrong_fields_are_bad_messages_that_carry_the_seq()
    {
        foreach (var (key, value) in new (string, object?)[] { ("step", "three"), ("step", -1), ("step", 1.5), ("t", "now"), ("infer", 1), ("obs", Frames.Floats(1)) })
        {
            var map = Frames.Obs(seq: 42);
            map[key] = value;
            var ex = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(Frames.Of(map)));
            Assert.Equal(ErrorCodes.BadMessage, ex.Code);
            Assert.Equal(42UL, ex.Seq);
            Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        }
        var missing = Frames.Obs();
        missing.Remove("episode");
        Assert.Equal(ErrorCodes.BadMessage, CodeOf(Frames.Of(missing)));
        Assert.Equal(ErrorCodes.BadMessage, CodeOf(Frames.Of(new() { ["type"] = 3 })));
        Assert.Equal(ErrorCodes.BadMessage, CodeOf(Frames.Of(new() { ["type"] = "hello", ["protocol"] = 1, ["robot"] = "has space" })));
    }

    [Fact]
    public void Observations_must_be_whole_finite_float32()
    {
        Assert.Equal(ErrorCodes.NonFinite, CodeOf(Frames.Of(Frames.Obs(data: new Dictionary<string, object?> { ["agent_pos"] = Frames.Floats(1, float.NaN) }))));
        Assert.Equal(ErrorCodes.NonFinite, CodeOf(Frames.Of(Frames.Obs(data: new Dictionary<string, object?> { ["agent_pos"] = Frames.Floats(float.PositiveInfinity) }))));
        Assert.Equal(ErrorCodes.BadMessage, CodeOf(Frames.Of(Frames.Obs(data: new Dictionary<string, object?> { ["agent_pos"] = new byte[7] }))));
        Assert.Equal(ErrorCodes.BadMessage, CodeOf(Frames.Of(Frames.Obs(data: new Dictionary<string, object?> { ["agent_pos"] = new[] { 1.0, 2.0 } }))));
        var map = Frames.Obs();
        map["t"] = double.NaN;
        Assert.Equal(ErrorCodes.NonFinite, CodeOf(Frames.Of(map)));
    }

    [Fact]
    public void Unknown_types_are_named_in_the_error()
    {
        var ex = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(Frames.Of(new() { ["type"] = "teleport", ["seq"] = 4 })));
        Assert.Equal((ErrorCodes.UnknownType, 4UL), (ex.Code, ex.Seq));
        Assert.Contains("teleport", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_text_longer_than_readers_accept_is_cut_to_fit_on_a_character_boundary()
    {
        // 3-byte characters so that a cut by bytes would split one; the default reader accepts 1,024 bytes.
        var text = "policy failed: " + new string('€', 2000);
        var decoded = (ProtocolError)RoundTrip(new ProtocolError(ErrorCodes.PolicyFailed, text, 9));
        var bytes = System.Text.Encoding.UTF8.GetByteCount(decoded.Text);
        Assert.InRange(bytes, ProtocolLimits.Default.MaxStringBytes - 3, ProtocolLimits.Default.MaxStringBytes);
        Assert.StartsWith("policy failed: €€", decoded.Text);
        Assert.EndsWith("…", decoded.Text);
        Assert.Equal(9UL, decoded.Seq);
        Assert.Equal("short", ((ProtocolError)RoundTrip(new ProtocolError(ErrorCodes.PolicyFailed, "short", null))).Text);
    }
}
