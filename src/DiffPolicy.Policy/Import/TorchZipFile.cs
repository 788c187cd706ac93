using System.Buffers.Binary;
using System.IO.Compression;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Import;

/// <summary>
/// A <c>torch.save</c> file (zip: <c>PREFIX/data.pkl</c> and one entry per storage under <c>PREFIX/data/</c>), read
/// without Python: the pickle through <see cref="PickleReader"/>, storages only when a tensor is asked for.
/// </summary>
public sealed class TorchZipFile : IDisposable
{
    readonly ZipArchive zip;
    readonly string prefix;

    TorchZipFile(string path, ZipArchive zip, string prefix, object? root)
    {
        Path = path;
        this.zip = zip;
        this.prefix = prefix;
        Root = root;
    }

    public string Path { get; }

    /// <summary>The unpickled payload.</summary>
    public object? Root { get; }

    public static TorchZipFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' is not a torch.save zip file: {e.Message}", e);
        }
        try
        {
            var pickle = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
                ?? throw new InvalidDataException($"'{path}' is a zip without data.pkl: not a torch.save file.");
            var prefix = pickle.FullName[..^"data.pkl".Length];
            if (pickle.Length > 1L << 30) throw new InvalidDataException($"'{path}': data.pkl of {pickle.Length} bytes is too large.");
            var bytes = new byte[pickle.Length];
            using (var stream = pickle.Open()) stream.ReadExactly(bytes);
            return new TorchZipFile(path, zip, prefix, PickleReader.Read(bytes, path));
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    /// <summary>A floating-point tensor as float32, an integer one (BatchNorm's num_batches_tracked) as int64; contiguous, on the CPU, owned by the caller.</summary>
    public Tensor Read(TensorRef reference, string name)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (reference.StorageType == "LongStorage")
        {
            var bytes = Storage(reference, name, 8);
            var longs = new long[reference.StorageElements];
            for (var i = 0; i < longs.Length; i++) longs[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8 * i));
            using var longStorage = tensor(longs);
            return longStorage.as_strided(reference.Size, reference.Stride, reference.Offset).contiguous().clone();
        }
        return ReadFloat(reference, name);
    }

    /// <summary>The tensor as float32 (contiguous, on the CPU); the caller owns it.</summary>
    public Tensor ReadFloat(TensorRef reference, string name)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var elementSize = reference.StorageType switch
        {
            "FloatStorage" => 4,
            "DoubleStorage" => 8,
            "HalfStorage" or "BFloat16Storage" => 2,
            _ => throw new InvalidDataException($"'{Path}': '{name}' is a {reference.StorageType} tensor, expected floating point."),
        };
        var bytes = Storage(reference, name, elementSize);
        var values = new float[reference.StorageElements];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reference.StorageType switch
            {
                "FloatStorage" => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i)),
                "DoubleStorage" => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(8 * i)),
                "HalfStorage" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan(2 * i)),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i)) << 16),
            };
        }
        using var storage = tensor(values);
        return storage.as_strided(reference.Size, reference.Stride, reference.Offset).contiguous().clone();
    }

    /// <summary>The storage's bytes, after checking that the view fits in it.</summary>
    byte[] Storage(TensorRef reference, string name, int elementSize)
    {
        var entry = zip.GetEntry($"{prefix}data/{reference.StorageKey}")
            ?? throw new InvalidDataException($"'{Path}': the storage of '{name}' (data/{reference.StorageKey}) is missing.");
        if (entry.Length != reference.StorageElements * elementSize)
            throw new InvalidDataException($"'{Path}': the storage of '{name}' has {entry.Length} bytes, not {reference.StorageElements} × {elementSize}.");
        if (reference.Size.Length != reference.Stride.Length) throw new InvalidDataException($"'{Path}': '{name}' has sizes and strides of different lengths.");
        var needed = reference.Offset;
        for (var d = 0; d < reference.Size.Length; d++)
        {
            if (reference.Size[d] < 0 || reference.Stride[d] < 0) throw new InvalidDataException($"'{Path}': '{name}' has a negative size or stride.");
            if (reference.Size[d] > 0) needed += (reference.Size[d] - 1) * reference.Stride[d];
        }
        if (reference.Offset < 0 || (reference.Size.All(s => s > 0) && needed >= reference.StorageElements))
            throw new InvalidDataException($"'{Path}': '{name}' views past the end of its storage.");

        var bytes = new byte[entry.Length];
        using (var stream = entry.Open()) stream.ReadExactly(bytes);
        return bytes;
    }

    public void Dispose() => zip.Dispose();
}
