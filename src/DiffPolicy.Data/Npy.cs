using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace DiffPolicy.Data;

/// <summary>
/// The .npy format (numpy's NEP 1, versions 1.0–3.0): magic, a Python-literal header dictionary
/// padded to a multiple of 64 bytes, then the raw elements. Little-endian, C order only.
/// </summary>
public static partial class Npy
{
    static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static void Write(Stream stream, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        var shape = array.Shape.Count == 1
            ? $"({array.Shape[0]},)"
            : "(" + string.Join(", ", array.Shape) + ")";
        var header = $"{{'descr': '{Descr(array.Type)}', 'fortran_order': False, 'shape': {shape}, }}";
        var unpadded = Magic.Length + 2 + 2 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - unpadded % 64) % 64) + "\n";

        stream.Write(Magic);
        stream.Write([1, 0]);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)header.Length));
        stream.Write(length);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(ElementBytes(array.Data));
    }

    /// <summary>Longest header read; numpy's own np.load refuses headers over 10,000 bytes by default.</summary>
    public const int MaxHeaderBytes = 65_536;

    /// <summary>
    /// Reads one array. <paramref name="available"/>, when known, is the bytes the stream holds: an array whose header
    /// promises more is refused before anything is allocated. Every malformed input is an
    /// <see cref="InvalidDataException"/> naming <paramref name="name"/>.
    /// </summary>
    public static NpyArray Read(Stream stream, string name = "array", long? available = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            return ReadArray(stream, name, available);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{name}: truncated .npy data.", e);
        }
    }

    static NpyArray ReadArray(Stream stream, string name, long? available)
    {
        var prefix = new byte[8];
        stream.ReadExactly(prefix);
        if (!prefix.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"{name}: not a .npy array (bad magic).");
        if (prefix[6] is not (1 or 2 or 3))
            throw new InvalidDataException($"{name}: .npy format version {prefix[6]}.{prefix[7]} is not supported (1.0–3.0).");
        var lengthBytes = new byte[prefix[6] == 1 ? 2 : 4];
        stream.ReadExactly(lengthBytes);
        long headerLength = lengthBytes.Length == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes)
            : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
            throw new InvalidDataException($"{name}: a .npy header of {headerLength} bytes is longer than {MaxHeaderBytes}.");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        var header = Encoding.UTF8.GetString(headerBytes);

        var descr = DescrPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !shapeMatch.Success)
            throw new InvalidDataException($"{name}: unreadable .npy header {Shorten(header.Trim())}");
        if (FortranPattern().IsMatch(header))
            throw new InvalidDataException($"{name}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray.");
        var type = ParseDescr(descr.Groups[1].Value, name);
        var shape = ParseShape(shapeMatch.Groups[1].Value, name);
        long count = 1;
        foreach (var d in shape) count = d == 0 ? 0 : count > System.Array.MaxLength ? count : count * d;   // < 2^62: no overflow
        if (count > System.Array.MaxLength)
            throw new InvalidDataException($"{name}: shape {Shapes.Format(shape)} holds more elements than one array can ({System.Array.MaxLength}).");
        var bytes = count * ElementSize(type);
        var offset = prefix.Length + lengthBytes.Length + headerLength;
        if (available is { } total && bytes > total - offset)
            throw new InvalidDataException($"{name}: truncated: shape {Shapes.Format(shape)} needs {bytes} bytes of data, the file holds {Math.Max(0, total - offset)}.");

        Array data = type switch
        {
            NpyType.Float32 => new float[count],
            NpyType.Float64 => new double[count],
            NpyType.Int32 => new int[count],
            NpyType.Int64 => new long[count],
            _ => new byte[count],
        };
        try
        {
            stream.ReadExactly(ElementBytes(data));
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{name}: truncated, expected {count} elements of shape {Shapes.Format(shape)}.", e);
        }
        return new NpyArray(data, shape);
    }

    /// <summary>"3, 18" or "5," → dimensions, each a whole number in [0, 2^31).</summary>
    static int[] ParseShape(string text, string name)
    {
        var dims = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[dims.Length];
        for (var i = 0; i < dims.Length; i++)
        {
            var d = dims[i].TrimEnd('L');
            if (!int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new InvalidDataException($"{name}: .npy shape ({Shorten(text)}) has a dimension '{Shorten(dims[i])}' that is not a whole number in [0, {int.MaxValue}].");
        }
        return shape;
    }

    static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    static int ElementSize(NpyType type) => type switch
    {
        NpyType.Float32 or NpyType.Int32 => 4,
        NpyType.Float64 or NpyType.Int64 => 8,
        _ => 1,
    };

    internal static Span<byte> ElementBytes(Array data) => data switch
    {
        float[] f => MemoryMarshal.AsBytes(f.AsSpan()),
        double[] d => MemoryMarshal.AsBytes(d.AsSpan()),
        int[] i => MemoryMarshal.AsBytes(i.AsSpan()),
        long[] l => MemoryMarshal.AsBytes(l.AsSpan()),
        byte[] b => b.AsSpan(),
        _ => throw new InvalidOperationException("unreachable"),
    };

    static string Descr(NpyType type) => type switch
    {
        NpyType.Float32 => "<f4",
        NpyType.Float64 => "<f8",
        NpyType.Int32 => "<i4",
        NpyType.Int64 => "<i8",
        _ => "|u1",
    };

    static NpyType ParseDescr(string descr, string name) => descr switch
    {
        "<f4" => NpyType.Float32,
        "<f8" => NpyType.Float64,
        "<i4" => NpyType.Int32,
        "<i8" => NpyType.Int64,
        "|u1" or "<u1" => NpyType.UInt8,
        _ => throw new InvalidDataException($"{name}: dtype '{descr}' is not supported (use float32, float64, int32, int64 or uint8, little-endian)."),
    };

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*True")]
    private static partial Regex FortranPattern();
}
