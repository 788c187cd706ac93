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
        string shape = array.Shape.Count == 1
            ? $"({array.Shape[0]},)"
            : "(" + string.Join(", ", array.Shape) + ")";
        string header = $"{{'descr': '{Descr(array.Type)}', 'fortran_order': False, 'shape': {shape}, }}";
        int unpadded = Magic.Length + 2 + 2 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - unpadded % 64) % 64) + "\n";

        stream.Write(Magic);
        stream.Write([1, 0]);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)header.Length));
        stream.Write(length);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(ElementBytes(array.Data));
    }

    public static NpyArray Read(Stream stream, string name = "array")
    {
        ArgumentNullException.ThrowIfNull(stream);
        var prefix = new byte[8];
        stream.ReadExactly(prefix);
        if (!prefix.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"{name}: not a .npy array (bad magic).");
        var lengthBytes = new byte[prefix[6] == 1 ? 2 : 4];
        stream.ReadExactly(lengthBytes);
        int headerLength = lengthBytes.Length == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes)
            : checked((int)BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes));
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        string header = Encoding.UTF8.GetString(headerBytes);

        var descr = DescrPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !shapeMatch.Success)
            throw new InvalidDataException($"{name}: unreadable .npy header {header.Trim()}");
        if (FortranPattern().IsMatch(header))
            throw new InvalidDataException($"{name}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray.");
        NpyType type = ParseDescr(descr.Groups[1].Value, name);
        int[] shape = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => int.Parse(d, NumberStyles.None, CultureInfo.InvariantCulture))
            .ToArray();
        long count = shape.Aggregate(1L, (a, d) => a * d);

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
            throw new InvalidDataException($"{name}: truncated, expected {count} elements of shape ({string.Join(", ", shape)}).", e);
        }
        return new NpyArray(data, shape);
    }

    static Span<byte> ElementBytes(Array data) => data switch
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
