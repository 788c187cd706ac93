using System.Globalization;
using System.Text.RegularExpressions;

namespace DiffPolicy.Tests;

/// <summary>Pieces of docs/protocol.md that tests run or check as printed.</summary>
internal static partial class ProtocolDoc
{
    public static string Text => File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "protocol.md"));

    /// <summary>The Python code block of §9, "A minimal client".</summary>
    public static string MinimalClient()
    {
        var section = Section("## 9.");
        var match = PythonBlock().Match(section);
        if (!match.Success) throw new InvalidOperationException("docs/protocol.md §9 has no ```python block");
        return match.Groups[1].Value;
    }

    /// <summary>
    /// The rows of §3a's PushT keypoint table: the value indices and, for a corner, its coordinates in the T's frame
    /// (null for the agent).
    /// </summary>
    public static IReadOnlyList<(int X, int Y, string Point, (double X, double Y)? Local)> KeypointTable()
    {
        var rows = new List<(int, int, string, (double, double)?)>();
        foreach (Match m in KeypointRow().Matches(Section("### PushT: `keypoint`")))
        {
            (double, double)? local = m.Groups["lx"].Success
                ? (double.Parse(m.Groups["lx"].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups["ly"].Value, CultureInfo.InvariantCulture))
                : null;
            rows.Add((int.Parse(m.Groups["i"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["j"].Value, CultureInfo.InvariantCulture), m.Groups["point"].Value, local));
        }
        return rows;
    }

    /// <summary>
    /// The key table of a §3 message (<paramref name="heading"/>, e.g. "### `obs`"): each key with the text of its
    /// type column (<paramref name="column"/> 1; ping and pong share a table, pong in column 2) and whether it is optional.
    /// </summary>
    public static IReadOnlyDictionary<string, (string Type, bool Optional)> MessageKeys(string heading, int column = 1)
    {
        var keys = new Dictionary<string, (string, bool)>();
        foreach (Match m in KeyRow().Matches(Section(heading)))
        {
            var type = m.Groups[column == 1 ? "c1" : "c2"].Value.Trim();
            if (type == "echoed") type = m.Groups["c1"].Value.Trim();   // pong's seq and t are ping's
            if (type is "–" or "key" || m.Groups["key"].Value == "type") continue;
            keys[m.Groups["key"].Value] = (type, type.Contains("optional", StringComparison.Ordinal));
        }
        return keys;
    }

    /// <summary>From the heading that starts with <paramref name="heading"/> to the next one of its level or above (code blocks skipped).</summary>
    static string Section(string heading)
    {
        var level = heading.TakeWhile(c => c == '#').Count();
        var lines = Text.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith(heading, StringComparison.Ordinal));
        if (start < 0) throw new InvalidOperationException($"docs/protocol.md has no heading '{heading}'");
        var end = start + 1;
        for (var fenced = false; end < lines.Length; end++)
        {
            if (lines[end].StartsWith("```", StringComparison.Ordinal)) fenced = !fenced;
            var hashes = lines[end].TakeWhile(c => c == '#').Count();
            if (!fenced && hashes is > 0 && hashes <= level && lines[end].Length > hashes && lines[end][hashes] == ' ') break;
        }
        return string.Join('\n', lines[start..end]) + "\n";
    }

    [GeneratedRegex(@"^\| `(?<key>[a-z_]+)` \| (?<c1>[^|]*) \| (?<c2>[^|]*) \|", RegexOptions.Multiline)]
    private static partial Regex KeyRow();

    [GeneratedRegex(@"```python\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex PythonBlock();

    [GeneratedRegex(@"^\| (?<i>\d+), (?<j>\d+) \| (?<point>bar corner|stem corner|agent)(?: \((?<lx>-?\d+), (?<ly>-?\d+)\))? \|", RegexOptions.Multiline)]
    private static partial Regex KeypointRow();
}
