using System.Buffers.Binary;
using System.Text;

namespace DiffPolicy.Policy.Export;

/// <summary>
/// The few protocol-buffer encodings an ONNX file needs: varints, length-delimited fields (strings,
/// bytes, nested messages) and packed repeated int64. A nested message is written by a callback into
/// its own buffer, then framed with its length.
/// </summary>
internal sealed class ProtoWriter
{
    readonly MemoryStream stream = new();

    const int VarintType = 0, LengthDelimitedType = 2, Fixed32Type = 5;

    public byte[] ToArray() => stream.ToArray();

    public ProtoWriter Int(int field, long value)
    {
        Tag(field, VarintType);
        Varint((ulong)value);
        return this;
    }

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, Fixed32Type);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        stream.Write(bytes);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthDelimitedType);
        Varint((ulong)value.Length);
        stream.Write(value);
        return this;
    }

    /// <summary>A repeated int64 field, packed.</summary>
    public ProtoWriter PackedInts(int field, IEnumerable<long> values)
    {
        var inner = new ProtoWriter();
        foreach (var value in values) inner.Varint((ulong)value);
        return Bytes(field, inner.stream.GetBuffer().AsSpan(0, (int)inner.stream.Length));
    }

    public ProtoWriter Message(int field, Action<ProtoWriter> write)
    {
        var inner = new ProtoWriter();
        write(inner);
        return Bytes(field, inner.stream.GetBuffer().AsSpan(0, (int)inner.stream.Length));
    }

    void Tag(int field, int wireType) => Varint(((ulong)field << 3) | (uint)wireType);

    void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }
}
