using System.Text;
using System.Text.Json;
using DiffPolicy.Data;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>What makes two evaluations the same run: episodes of one may continue the other.</summary>
public sealed record EvalIdentity(string Checkpoint, string Sampler, string Mode, int? LatencySteps, string Seam, long SeedStart, int MaxSteps, double? DeadlineMs = null);

/// <summary>
/// An evaluation's finished episodes, appended one JSON line each to <c>&lt;report&gt;.progress</c> as they finish (the
/// first line is the run's <see cref="EvalIdentity"/>), so that an interrupted evaluation resumes where it stopped: the
/// same command skips the seeds already done. A line cut short by the interruption is ignored. The file is deleted once
/// the report is written.
/// </summary>
public sealed class EvalProgress : IDisposable
{
    readonly StreamWriter writer;

    EvalProgress(string path, EvalIdentity identity, List<EpisodeRecord> done, StreamWriter writer)
    {
        Path = path;
        Identity = identity;
        Done = done;
        this.writer = writer;
    }

    public string Path { get; }

    public EvalIdentity Identity { get; }

    /// <summary>Episodes finished by earlier runs, in seed order.</summary>
    public IReadOnlyList<EpisodeRecord> Done { get; }

    /// <summary>The progress file of <paramref name="reportPath"/>'s evaluation.</summary>
    public static string PathOf(string reportPath) => reportPath + ".progress";

    /// <summary>The identity an earlier run recorded for <paramref name="reportPath"/>, or null.</summary>
    public static EvalIdentity? Recorded(string reportPath)
    {
        var path = PathOf(reportPath);
        if (!File.Exists(path)) return null;
        using var reader = new StreamReader(path, Encoding.UTF8);
        var first = reader.ReadLine();
        try
        {
            return first is null ? null : JsonSerializer.Deserialize<EvalIdentity>(first, SnakeCaseJson.Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: its first line is not an evaluation's settings ({e.Message}); delete it to start over", e);
        }
    }

    /// <summary>
    /// Opens the progress of <paramref name="reportPath"/>'s evaluation, resuming when an earlier run with the same
    /// identity left one; throws <see cref="InvalidDataException"/> naming the file and the first differing setting.
    /// </summary>
    public static EvalProgress Open(string reportPath, EvalIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var path = PathOf(reportPath);
        var done = new List<EpisodeRecord>();
        if (Recorded(reportPath) is { } recorded)
        {
            if (recorded != identity)
            {
                var differing = typeof(EvalIdentity).GetProperties().First(p => !Equals(p.GetValue(recorded), p.GetValue(identity)));
                throw new InvalidDataException(
                    $"{path} holds episodes of another evaluation ({JsonNamingPolicy.SnakeCaseLower.ConvertName(differing.Name)} {differing.GetValue(recorded) ?? "null"}, "
                    + $"not {differing.GetValue(identity) ?? "null"}): delete it or write the report elsewhere");
            }
            foreach (var line in File.ReadLines(path).Skip(1))
            {
                try
                {
                    if (JsonSerializer.Deserialize<EpisodeRecord>(line, SnakeCaseJson.Options) is { } record
                        && record.Result.Seed == identity.SeedStart + done.Count)
                    {
                        done.Add(record);
                        continue;
                    }
                }
                catch (JsonException)
                {
                }
                break;   // cut short by an interruption: what follows is redone
            }
        }
        // Rewrite what is kept, so a cut line never sits in the middle of the file.
        var temporary = path + ".tmp";
        using (var rewrite = new StreamWriter(temporary, append: false, new UTF8Encoding(false)))
        {
            rewrite.WriteLine(JsonSerializer.Serialize(identity, SnakeCaseJson.Compact));
            foreach (var record in done) rewrite.WriteLine(JsonSerializer.Serialize(record, SnakeCaseJson.Compact));
        }
        File.Move(temporary, path, overwrite: true);
        var writer = new StreamWriter(path, append: true, new UTF8Encoding(false)) { AutoFlush = true };
        return new EvalProgress(path, identity, done, writer);
    }

    public void Append(EpisodeRecord record) => writer.WriteLine(JsonSerializer.Serialize(record, SnakeCaseJson.Compact));

    /// <summary>The report is written: the progress is no longer needed.</summary>
    public void Complete()
    {
        writer.Dispose();
        File.Delete(Path);
    }

    public void Dispose() => writer.Dispose();

}
