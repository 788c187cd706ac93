using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace DiffPolicy.Protocol.Codec;

/// <summary>
/// The top-level map of one untrusted frame, each value kept as its raw bytes and read on demand with
/// strict typing. Nesting is bounded through <see cref="MessagePackSecurity.UntrustedData"/>'s depth step,
/// so no input can recurse deeper than <see cref="ProtocolLimits.MaxDepth"/>.
/// </summary>
internal sealed class FrameFields
{
    readonly Dictionary<string, ReadOnlySequence<byte>> fields;
    readonly MessagePackSecurity security;
    readonly ProtocolLimits limits;

    FrameFields(Dictionary<string, ReadOnlySequence<byte>> fields, MessagePackSecurity security, ProtocolLimits limits)
    {
        this.fields = fields;
        this.security = security;
        this.limits = limits;
    }

    /// <summary>The frame's <c>seq</c> when it has a readable one; used to tag errors.</summary>
    public ulong? Seq { get; private set; }

    public static FrameFields Parse(ReadOnlyMemory<byte> frame, ProtocolLimits limits)
    {
        if (frame.Length > limits.MaxFrameBytes)
        {
            throw new ProtocolException(ErrorCodes.TooLarge, $"frame of {frame.Length} bytes exceeds the limit of {limits.MaxFrameBytes}");
        }
        var security = MessagePackSecurity.UntrustedData.WithMaximumObjectGraphDepth(limits.MaxDepth);
        var byKey = new Dictionary<string, ReadOnlySequence<byte>>(security.GetEqualityComparer<string>());
        try
        {
            var reader = new MessagePackReader(frame);
            if (reader.NextMessagePackType != MessagePackType.Map)
            {
                throw new ProtocolException(ErrorCodes.BadFrame, "a frame must be one MessagePack map");
            }
            var count = reader.ReadMapHeader();
            CheckEntries(count, limits);
            security.DepthStep(ref reader);
            for (var i = 0; i < count; i++)
            {
                if (reader.NextMessagePackType != MessagePackType.String)
                {
                    throw new ProtocolException(ErrorCodes.BadFrame, "map keys must be strings");
                }
                var key = ReadBoundedString(ref reader, limits)!;
                var start = reader.Position;
                SkipValue(ref reader, security, limits);
                if (!byKey.TryAdd(key, reader.Sequence.Slice(start, reader.Position)))
                {
                    throw new ProtocolException(ErrorCodes.BadFrame, $"duplicate key '{key}'");
                }
            }
            reader.Depth--;
            if (!reader.End)
            {
                throw new ProtocolException(ErrorCodes.BadFrame, "trailing bytes after the map");
            }
        }
        catch (Exception ex) when (ex is not ProtocolException)
        {
            throw new ProtocolException(ErrorCodes.BadFrame, $"not valid MessagePack: {ex.Message}", inner: ex);
        }
        var result = new FrameFields(byKey, security, limits);
        if (byKey.ContainsKey("seq"))
        {
            try
            {
                result.Seq = result.UInt64("seq");
            }
            catch (ProtocolException)
            {
                // The error about seq is reported when the message is read.
            }
        }
        return result;
    }

    public bool Has(string name) => fields.ContainsKey(name);

    public string String(string name)
    {
        var reader = Reader(name, MessagePackType.String, "a string");
        try
        {
            return ReadBoundedString(ref reader, limits)!;
        }
        catch (Exception ex) when (ex is not ProtocolException)
        {
            throw Wrong(name, "a string", ex);
        }
    }

    public ulong UInt64(string name)
    {
        var reader = Reader(name, MessagePackType.Integer, "an unsigned integer");
        try
        {
            return reader.ReadUInt64();
        }
        catch (Exception ex) when (ex is not ProtocolException)
        {
            throw Wrong(name, "an unsigned integer", ex);
        }
    }

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public long Int64(string name, long min, long max)
    {
        var reader = Reader(name, MessagePackType.Integer, "an integer");
        long value;
        try
        {
            value = reader.ReadInt64();
        }
        catch (Exception ex) when (ex is not ProtocolException)
        {
            throw Wrong(name, "an integer", ex);
        }
        return value >= min && value <= max
            ? value
            : throw Bad($"field '{name}' = {value} is outside [{min}, {max}]");
    }

    public int Int32(string name, int min, int max) => (int)Int64(name, min, max);

    /// <summary>A finite number; integers are accepted too.</summary>
    public double Double(string name)
    {
        var reader = Reader(name, null, "a number");
        if (reader.NextMessagePackType is not (MessagePackType.Float or MessagePackType.Integer))
        {
            throw Bad($"field '{name}' must be a number, not {reader.NextMessagePackType}");
        }
        double value;
        try
        {
            value = reader.ReadDouble();
        }
        catch (Exception ex) when (ex is not ProtocolException)
        {
            throw Wrong(name, "a number", ex);
        }
        return double.IsFinite(value) ? value : throw new ProtocolException(ErrorCodes.NonFinite, $"field '{name}' is not finite", Seq);
    }

    public bool Bool(string name, bool whenAbsent)
    {
        if (!Has(name))
        {
            return whenAbsent;
        }
        var reader = Reader(name, MessagePackType.Boolean, "a boolean");
        return reader.ReadBoolean();
    }

    /// <summary>A bin of little-endian float32 values, all finite.</summary>
    public float[] Floats(string name)
    {
        var reader = Reader(name, MessagePackType.Binary, "a bin of little-endian float32");
        return ReadFloats(ref reader, name);
    }

    /// <summary>
    /// The observation map: bins of <paramref name="rgbKeys"/> as u8 camera frames, every other bin as float32.
    /// </summary>
    public (Dictionary<string, float[]> Data, Dictionary<string, byte[]> Frames) ObservationMap(string name, IReadOnlySet<string> rgbKeys)
    {
        var reader = Reader(name, MessagePackType.Map, "a map of bins");
        var count = reader.ReadMapHeader();
        CheckEntries(count, limits);
        var data = new Dictionary<string, float[]>(count, security.GetEqualityComparer<string>());
        var frames = new Dictionary<string, byte[]>(security.GetEqualityComparer<string>());
        for (var i = 0; i < count; i++)
        {
            if (reader.NextMessagePackType != MessagePackType.String)
            {
                throw Bad($"keys of '{name}' must be strings");
            }
            var key = ReadBoundedString(ref reader, limits)!;
            var rgb = rgbKeys.Contains(key);
            if (reader.NextMessagePackType != MessagePackType.Binary)
            {
                throw Bad($"'{name}.{key}' must be a bin of {(rgb ? "u8 (a camera frame)" : "little-endian float32")}, not {reader.NextMessagePackType}");
            }
            var added = rgb
                ? frames.TryAdd(key, (reader.ReadBytes() ?? throw Bad($"'{name}.{key}' is nil")).ToArray()) && !data.ContainsKey(key)
                : data.TryAdd(key, ReadFloats(ref reader, $"{name}.{key}")) && !frames.ContainsKey(key);
            if (!added)
            {
                throw Bad($"duplicate key '{name}.{key}'");
            }
        }
        return (data, frames);
    }

    /// <summary>An array of maps, each read by <paramref name="readItem"/> as its own field set.</summary>
    public List<T> MapList<T>(string name, Func<FrameFields, T> readItem)
    {
        var reader = Reader(name, MessagePackType.Array, "an array of maps");
        var count = reader.ReadArrayHeader();
        CheckEntries(count, limits);
        var result = new List<T>(count);
        for (var i = 0; i < count; i++)
        {
            if (reader.NextMessagePackType != MessagePackType.Map)
            {
                throw Bad($"items of '{name}' must be maps, not {reader.NextMessagePackType}");
            }
            var start = reader.Position;
            reader.Skip();
            var item = reader.Sequence.Slice(start, reader.Position).ToArray();
            // The outer frame's depth check covered this item; it is read as a frame of its own, one level less deep.
            result.Add(readItem(Parse(item, limits with { MaxDepth = limits.MaxDepth - 1 })));
        }
        return result;
    }

    /// <summary>An array of integers in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int[] Ints(string name, int min, int max)
    {
        var reader = Reader(name, MessagePackType.Array, "an array of integers");
        var count = reader.ReadArrayHeader();
        CheckEntries(count, limits);
        var result = new int[count];
        for (var i = 0; i < count; i++)
        {
            if (reader.NextMessagePackType != MessagePackType.Integer)
            {
                throw Bad($"'{name}[{i}]' must be an integer, not {reader.NextMessagePackType}");
            }
            var value = reader.ReadInt64();
            result[i] = value >= min && value <= max ? (int)value : throw Bad($"'{name}[{i}]' = {value} is outside [{min}, {max}]");
        }
        return result;
    }

    MessagePackReader Reader(string name, MessagePackType? expected, string what)
    {
        if (!fields.TryGetValue(name, out var raw))
        {
            throw Bad($"missing field '{name}'");
        }
        var reader = new MessagePackReader(raw) { Depth = 1 };
        if (expected is { } type && reader.NextMessagePackType != type)
        {
            throw Bad($"field '{name}' must be {what}, not {reader.NextMessagePackType}");
        }
        return reader;
    }

    ProtocolException Wrong(string name, string what, Exception ex) => Bad($"field '{name}' must be {what}: {ex.Message}");

    float[] ReadFloats(ref MessagePackReader reader, string name)
    {
        var bytes = reader.ReadBytes() ?? throw Bad($"'{name}' is nil");
        if (bytes.Length % 4 != 0)
        {
            throw Bad($"'{name}' has {bytes.Length} bytes, not a multiple of 4 (float32)");
        }
        var raw = bytes.IsSingleSegment ? bytes.FirstSpan : bytes.ToArray();
        var values = new float[raw.Length / 4];
        for (var i = 0; i < values.Length; i++)
        {
            var v = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * i, 4));
            values[i] = float.IsFinite(v) ? v : throw new ProtocolException(ErrorCodes.NonFinite, $"'{name}[{i}]' is {v}", Seq);
        }
        return values;
    }

    ProtocolException Bad(string message) => new(ErrorCodes.BadMessage, message, Seq);

    static void SkipValue(ref MessagePackReader reader, MessagePackSecurity security, ProtocolLimits limits)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Map:
                {
                    var count = reader.ReadMapHeader();
                    CheckEntries(count, limits);
                    security.DepthStep(ref reader);
                    for (var i = 0; i < 2 * count; i++)
                    {
                        SkipValue(ref reader, security, limits);
                    }
                    reader.Depth--;
                    break;
                }
            case MessagePackType.Array:
                {
                    var count = reader.ReadArrayHeader();
                    CheckEntries(count, limits);
                    security.DepthStep(ref reader);
                    for (var i = 0; i < count; i++)
                    {
                        SkipValue(ref reader, security, limits);
                    }
                    reader.Depth--;
                    break;
                }
            case MessagePackType.Unknown:
                throw new ProtocolException(ErrorCodes.BadFrame, "invalid MessagePack code");
            default:
                reader.Skip();
                break;
        }
    }

    static void CheckEntries(int count, ProtocolLimits limits)
    {
        if (count > limits.MaxEntries)
        {
            throw new ProtocolException(ErrorCodes.BadFrame, $"a container has {count} entries, more than {limits.MaxEntries}");
        }
    }

    static string? ReadBoundedString(ref MessagePackReader reader, ProtocolLimits limits)
    {
        var peek = reader.CreatePeekReader();
        if (peek.TryReadStringSpan(out var span) && span.Length > limits.MaxStringBytes)
        {
            throw new ProtocolException(ErrorCodes.BadFrame, $"a string of {span.Length} bytes exceeds {limits.MaxStringBytes}");
        }
        return reader.ReadString();
    }
}
