namespace DiffPolicy.Data;

/// <summary>Element types of the .npy arrays we read and write (little-endian, C order).</summary>
public enum NpyType
{
    Float32,
    Float64,
    Int32,
    Int64,
    UInt8,
}

/// <summary>
/// One numpy array: a shape and its elements in C (row-major) order. <see cref="Data"/> is a
/// float[], double[], int[], long[] or byte[] according to <see cref="Type"/>.
/// </summary>
public sealed record NpyArray
{
    public NpyArray(Array data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        Type = data switch
        {
            float[] => NpyType.Float32,
            double[] => NpyType.Float64,
            int[] => NpyType.Int32,
            long[] => NpyType.Int64,
            byte[] => NpyType.UInt8,
            _ => throw new ArgumentException($"Unsupported element type {data.GetType().GetElementType()}.", nameof(data)),
        };
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension in shape {Shapes.Format(shape)}.", nameof(shape));
            count *= d;
        }
        if (count != data.Length)
            throw new ArgumentException($"Shape {Shapes.Format(shape)} holds {count} elements but {data.Length} were given.", nameof(shape));
        Data = data;
        Shape = shape;
    }

    public NpyType Type { get; }
    public Array Data { get; }
    public IReadOnlyList<int> Shape { get; }
    public int Length => Data.Length;

    /// <summary>The elements as float32, converting from any numeric type.</summary>
    public float[] ToFloat32() => Data switch
    {
        float[] f => f,
        double[] d => Array.ConvertAll(d, v => (float)v),
        int[] i => Array.ConvertAll(i, v => (float)v),
        long[] l => Array.ConvertAll(l, v => (float)v),
        byte[] b => Array.ConvertAll(b, v => (float)v),
        _ => throw new InvalidOperationException("unreachable"),
    };

    /// <summary>The elements as int64, for integer arrays only (e.g. episode_ends).</summary>
    public long[] ToInt64() => Data switch
    {
        long[] l => l,
        int[] i => Array.ConvertAll(i, v => (long)v),
        byte[] b => Array.ConvertAll(b, v => (long)v),
        _ => throw new InvalidDataException($"Expected an integer array, found {Type}."),
    };
}
