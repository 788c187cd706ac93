using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace DiffPolicy.Protocol.Codec;

/// <summary>Helpers to write one frame: a map with string keys, <c>type</c> first.</summary>
internal static class FrameWriter
{
    public static MessagePackWriter Begin(ArrayBufferWriter<byte> buffer, string type, int otherFields)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(otherFields + 1);
        writer.Write("type");
        writer.Write(type);
        return writer;
    }

    /// <summary>Writes a bin of little-endian float32.</summary>
    public static void WriteFloats(this ref MessagePackWriter writer, ReadOnlySpan<float> values)
    {
        writer.WriteBinHeader(values.Length * 4);
        var span = writer.GetSpan(values.Length * 4);
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span.Slice(4 * i), values[i]);
        }
        writer.Advance(values.Length * 4);
    }

    public static byte[] Finish(this ref MessagePackWriter writer, ArrayBufferWriter<byte> buffer)
    {
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
