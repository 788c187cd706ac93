using System.CommandLine;
using System.Text.RegularExpressions;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// Every number the CLI takes is bounded (made by CliOptions, which states the bound in --help), and docs/cli.md lists
/// each bound: the table there and the command tree are compared row by row.
/// </summary>
public sealed partial class CliDocsTests
{
    /// <summary>Every verb of the command tree with its path, e.g. ("pusht collect", command).</summary>
    internal static IEnumerable<(string Verb, Command Command)> Verbs()
    {
        static IEnumerable<(string, Command)> Walk(Command command, string prefix)
        {
            foreach (var sub in command.Subcommands)
            {
                var path = prefix.Length == 0 ? sub.Name : $"{prefix} {sub.Name}";
                if (sub.Subcommands.Count > 0)
                {
                    foreach (var inner in Walk(sub, path)) yield return inner;
                }
                else
                {
                    yield return (path, sub);
                }
            }
        }
        return Walk(CliApp.Root(), "");
    }

    static readonly Type[] Numbers = [typeof(int), typeof(long), typeof(ulong), typeof(double), typeof(TimeSpan), typeof(int[])];

    [GeneratedRegex(@"\[([^\[\]]*)\]$")]
    private static partial Regex Bound();

    /// <summary>"| verb | --option | bound |" for every bounded option, as docs/cli.md writes it.</summary>
    static List<string> BoundRows()
    {
        var rows = new List<string>();
        foreach (var (verb, command) in Verbs())
        {
            foreach (var option in command.Options.Where(o => Numbers.Contains(Nullable.GetUnderlyingType(o.ValueType) ?? o.ValueType)))
            {
                var bound = Bound().Match(option.Description ?? "");
                Assert.True(bound.Success, $"{verb} {option.Name} takes a number but states no bound: make it with CliOptions.");
                rows.Add($"| {verb} | `{option.Name}` | {bound.Groups[1].Value} |");
            }
        }
        return rows;
    }

    [Fact]
    public void Every_number_option_is_bounded_and_docs_cli_md_lists_its_bound()
    {
        var docs = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "cli.md"));
        var rows = BoundRows();
        var missing = rows.Where(row => !docs.Contains(row, StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "docs/cli.md lacks these rows (or states other bounds):\n" + string.Join("\n", missing));
        Assert.Contains("| eval | `--threads` | 0–256 |", rows);
    }

    [Fact]
    public void Every_verb_has_a_section_in_docs_cli_md()
    {
        var docs = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "cli.md"));
        Assert.All(Verbs(), v => Assert.Contains($"`diffpolicy {v.Verb}`", docs, StringComparison.Ordinal));
    }
}
