using System.Security.Cryptography;
using System.Text;

namespace DiffPolicy.Data;

/// <summary>
/// Demonstrations as DiffusionPolicy's replay buffer stores them: every key is an array whose
/// first axis runs over all steps of all episodes back to back, and <c>episode_ends</c> holds the
/// cumulative end index of each episode.
/// </summary>
public sealed class ReplayBuffer
{
    readonly Dictionary<string, NpyArray> columns;

    public ReplayBuffer(IReadOnlyDictionary<string, NpyArray> arrays, string source = "the dataset")
    {
        ArgumentNullException.ThrowIfNull(arrays);
        Source = source;
        if (!arrays.TryGetValue("episode_ends", out var ends))
            throw new InvalidDataException($"{source} has no 'episode_ends' array.");
        EpisodeEnds = ends.Type is NpyType.Float32 or NpyType.Float64 || ends.Shape.Count != 1
            ? throw new InvalidDataException($"{source}: 'episode_ends' must be a 1-D integer array, not {ends.Type} of shape {Shapes.Format(ends.Shape)}.")
            : ends.ToInt64();
        long previous = 0;
        foreach (var end in EpisodeEnds)
        {
            if (end <= previous) throw new InvalidDataException($"{source}: episode_ends must increase strictly from a positive first end; found {end} after {previous}.");
            previous = end;
        }
        if (previous > int.MaxValue) throw new InvalidDataException($"{source}: episode_ends ends at {previous} steps, more than {int.MaxValue}.");
        Steps = (int)previous;
        columns = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        foreach (var (key, array) in arrays)
        {
            if (key == "episode_ends") continue;
            if (array.Shape.Count == 0 || array.Shape[0] != Steps)
                throw new InvalidDataException($"{source}: '{key}' has {(array.Shape.Count == 0 ? 0 : array.Shape[0])} rows but episode_ends says {Steps} steps.");
            columns[key] = array;
        }
    }

    public static ReplayBuffer Load(string path) => new(Npz.Load(path), $"'{path}'");

    /// <summary>Where the arrays came from, as messages name it (a quoted path, or "the dataset").</summary>
    public string Source { get; }

    public IReadOnlyList<long> EpisodeEnds { get; }
    public int Episodes => EpisodeEnds.Count;
    public int Steps { get; }
    public IEnumerable<string> Keys => columns.Keys;

    /// <summary>A column as float32 rows of <paramref name="width"/> = product of the trailing axes.</summary>
    public float[] Column(string key, out int width)
    {
        var array = Find(key);
        width = Width(key);
        return array.ToFloat32();
    }

    /// <summary>A column as stored (its element type and shape), e.g. uint8 camera frames (N, H, W, 3).</summary>
    public NpyArray Stored(string key) => Find(key);

    /// <summary>Whether the dataset has a column <paramref name="key"/>.</summary>
    public bool Has(string key) => columns.ContainsKey(key);

    /// <summary>Values per step of a column: the product of its trailing axes.</summary>
    public int Width(string key) => Steps == 0 ? 0 : Find(key).Length / Steps;

    NpyArray Find(string key) => columns.TryGetValue(key, out var array)
        ? array
        : throw new InvalidDataException($"{Source} has no '{key}' array (it has: {string.Join(", ", columns.Keys.Append("episode_ends"))}).");

    /// <summary>
    /// SHA-256 (hex) of episode_ends and the given columns (name, dtype, shape and elements): the same for the same
    /// demonstrations however the file was written, different for any other data of the same size.
    /// </summary>
    public string Fingerprint(params string[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string name, NpyArray array)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}|{array.Type}|{string.Join(",", array.Shape)}|"));
            hash.AppendData(Npy.ElementBytes(array.Data));
        }
        Add("episode_ends", new NpyArray(EpisodeEnds.ToArray(), EpisodeEnds.Count));
        foreach (var key in keys.Distinct().Order(StringComparer.Ordinal)) Add(key, Find(key));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public (int Start, int End) Episode(int index) =>
        (index == 0 ? 0 : (int)EpisodeEnds[index - 1], (int)EpisodeEnds[index]);
}
