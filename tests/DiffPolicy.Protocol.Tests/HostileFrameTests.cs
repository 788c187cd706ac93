using CsCheck;

namespace DiffPolicy.Protocol.Tests;

public class HostileFrameTests
{
    [Fact]
    public void Random_bytes_are_refused_with_a_protocol_error_and_nothing_else()
    {
        Gen.Byte.Array[0, 512].Sample(bytes =>
        {
            try
            {
                MessageCodec.Decode(bytes);
            }
            catch (ProtocolException ex)
            {
                Assert.Contains(ex.Code, new[] { ErrorCodes.BadFrame, ErrorCodes.BadMessage, ErrorCodes.UnknownType, ErrorCodes.NonFinite, ErrorCodes.BadShape });
            }
        }, iter: 20_000);
    }

    static readonly string[] RefusalCodes = [ErrorCodes.BadFrame, ErrorCodes.BadMessage, ErrorCodes.UnknownType, ErrorCodes.NonFinite, ErrorCodes.BadShape];

    /// <summary>
    /// A valid obs frame with one byte changed and cut anywhere: either refused with a protocol error code, or (a
    /// changed value, a cut that happens to end a shorter valid frame) a well-formed message, which encodes and decodes
    /// back to itself. Both outcomes must occur, or the test would not be exercising the decoder.
    /// </summary>
    [Fact]
    public void Mutated_valid_frames_are_refused_with_a_protocol_error_or_decode_to_a_well_formed_message()
    {
        var valid = MessageCodec.Encode(new Observation(1, 0, 0, 0, true, new Dictionary<string, float[]> { ["agent_pos"] = [1, 2] }));
        long refused = 0, accepted = 0;
        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[0, valid.Length]).Sample((at, value, cut) =>
        {
            var frame = (byte[])valid.Clone();
            frame[at] = value;
            Message decoded;
            try
            {
                decoded = MessageCodec.Decode(frame.AsMemory(0, cut));
            }
            catch (ProtocolException ex)
            {
                Assert.Contains(ex.Code, RefusalCodes);
                Interlocked.Increment(ref refused);
                return;
            }
            Assert.Equivalent(decoded, MessageCodec.Decode(MessageCodec.Encode(decoded)), strict: true);
            Interlocked.Increment(ref accepted);
        }, iter: 20_000);
        Assert.True(refused > 0 && accepted > 0, $"{refused} refused, {accepted} accepted");
    }
}
