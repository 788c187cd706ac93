namespace DiffPolicy.Data;

/// <summary>
/// Demonstrations as DiffusionPolicy's replay buffer stores them: every key is an array whose
/// first axis runs over all steps of all episodes back to back, and <c>episode_ends</c> holds the
/// cumulative end index of each episode.
/// </summary>
public sealed class ReplayBuffer
{
    readonly Dictionary<string, NpyArray> columns;

    public ReplayBuffer(IReadOnlyDictionary<string, NpyArray> arrays)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        if (!arrays.TryGetValue("episode_ends", out var ends))
            throw new InvalidDataException("The dataset has no 'episode_ends' array.");
        EpisodeEnds = ends.ToInt64();
        long previous = 0;
        foreach (long end in EpisodeEnds)
        {
            if (end <= previous) throw new InvalidDataException($"episode_ends must increase strictly from a positive first end; found {end} after {previous}.");
            previous = end;
        }
        Steps = EpisodeEnds.Count == 0 ? 0 : checked((int)EpisodeEnds[^1]);
        columns = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        foreach (var (key, array) in arrays)
        {
            if (key == "episode_ends") continue;
            if (array.Shape.Count == 0 || array.Shape[0] != Steps)
                throw new InvalidDataException($"'{key}' has {(array.Shape.Count == 0 ? 0 : array.Shape[0])} rows but episode_ends says {Steps} steps.");
            columns[key] = array;
        }
    }

    public static ReplayBuffer Load(string path) => new(Npz.Load(path));

    public IReadOnlyList<long> EpisodeEnds { get; }
    public int Episodes => EpisodeEnds.Count;
    public int Steps { get; }
    public IEnumerable<string> Keys => columns.Keys;

    /// <summary>A column as float32 rows of <paramref name="width"/> = product of the trailing axes.</summary>
    public float[] Column(string key, out int width)
    {
        if (!columns.TryGetValue(key, out var array))
            throw new KeyNotFoundException($"The dataset has no '{key}' array (it has: {string.Join(", ", columns.Keys)}).");
        width = Steps == 0 ? 0 : array.Length / Steps;
        return array.ToFloat32();
    }

    public (int Start, int End) Episode(int index) =>
        (index == 0 ? 0 : (int)EpisodeEnds[index - 1], (int)EpisodeEnds[index]);
}
