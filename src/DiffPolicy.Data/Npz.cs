using System.IO.Compression;

namespace DiffPolicy.Data;

/// <summary>
/// numpy's .npz: a zip archive of .npy members named "key.npy" (what np.savez writes and
/// np.load reads). Saving is atomic (<see cref="AtomicFile"/>).
/// </summary>
public static class Npz
{
    public static void Save(string path, IReadOnlyDictionary<string, NpyArray> arrays, bool compress = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(arrays);
        AtomicFile.Write(path, file =>
        {
            using var zip = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (key, array) in arrays)
            {
                var entry = zip.CreateEntry(key + ".npy", compress ? CompressionLevel.Fastest : CompressionLevel.NoCompression);
                using var stream = entry.Open();
                Npy.Write(stream, array);
            }
        });
    }

    public static Dictionary<string, NpyArray> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No .npz file at '{path}'.", path);
        var arrays = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' is not an .npz (zip) archive: {e.Message}", e);
        }
        using (zip)
        {
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                var key = entry.FullName[..^4];
                using var stream = entry.Open();
                arrays[key] = Npy.Read(stream, $"'{path}': '{key}'", entry.Length);
            }
        }
        return arrays;
    }
}
