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

    [Fact]
    public void Mutated_valid_frames_are_refused_with_a_protocol_error_and_nothing_else()
    {
        var valid = MessageCodec.Encode(new Observation(1, 0, 0, 0, true, new Dictionary<string, float[]> { ["agent_pos"] = [1, 2] }));
        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[0, valid.Length]).Sample((at, value, cut) =>
        {
            var frame = (byte[])valid.Clone();
            frame[at] = value;
            try
            {
                MessageCodec.Decode(frame.AsMemory(0, cut));
            }
            catch (ProtocolException)
            {
            }
        }, iter: 20_000);
    }
}
