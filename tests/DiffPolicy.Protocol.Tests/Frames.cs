using System.Buffers.Binary;
using MessagePack;

namespace DiffPolicy.Protocol.Tests;

/// <summary>Frames built from plain dictionaries, the way a client in another language writes them.</summary>
internal static class Frames
{
    public static byte[] Of(Dictionary<string, object?> map) => MessagePackSerializer.Serialize(map);

    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }
        return bytes;
    }

    public static Dictionary<string, object?> Obs(ulong seq = 1, long step = 0, object? data = null) => new()
    {
        ["type"] = "obs",
        ["seq"] = seq,
        ["episode"] = 0,
        ["step"] = step,
        ["t"] = 1.5,
        ["obs"] = data ?? new Dictionary<string, object?> { ["agent_pos"] = Floats(1, 2) },
    };
}
