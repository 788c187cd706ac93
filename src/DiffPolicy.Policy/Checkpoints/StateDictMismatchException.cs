namespace DiffPolicy.Policy.Checkpoints;

/// <summary>A weights file whose keys or shapes do not match the network exactly.</summary>
public sealed class StateDictMismatchException : FormatException
{
    public IReadOnlyList<string> MissingKeys { get; }
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>"key: file (…) vs network (…)" for every key present in both with different shapes.</summary>
    public IReadOnlyList<string> ShapeMismatches { get; }

    public StateDictMismatchException(string source, IReadOnlyList<string> missingKeys, IReadOnlyList<string> unexpectedKeys, IReadOnlyList<string> shapeMismatches)
        : base(Describe(source, missingKeys, unexpectedKeys, shapeMismatches))
    {
        MissingKeys = missingKeys;
        UnexpectedKeys = unexpectedKeys;
        ShapeMismatches = shapeMismatches;
    }

    static string Describe(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> shapes)
    {
        var lines = new List<string> { $"The weights in '{source}' do not match the network:" };
        void Section(string title, IReadOnlyList<string> items)
        {
            if (items.Count == 0) return;
            lines.Add($"  {title} ({items.Count}):");
            lines.AddRange(items.Select(item => "    " + item));
        }
        Section("missing keys", missing);
        Section("unexpected keys", unexpected);
        Section("shape mismatches", shapes);
        return string.Join(Environment.NewLine, lines);
    }
}
