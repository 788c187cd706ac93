using System.Globalization;
using DiffPolicy.Data;

namespace DiffPolicy.Policy.Training;

/// <summary>One row of a run's log.csv: the step reached, its loss and learning rate, validation and rollout when run.</summary>
/// <param name="ValLoss">The EMA network's validation loss, when validation ran at this step.</param>
/// <param name="Score">The closed-loop rollout score, when a rollout ran at this step.</param>
/// <param name="ElapsedSeconds">Training time since the run began, over resumes (written to 0.1 s).</param>
public sealed record TrainingLogRow(int Step, double Loss, double LearningRate, double? ValLoss, double? Score, double ElapsedSeconds);

/// <summary>
/// The training log, log.csv: the one type that writes and reads it. A header line, then one row per step:
/// <c>step,loss,lr,val_loss,score,elapsed_s</c>, invariant culture, doubles round-trip ("R"), an empty field where no
/// validation or rollout ran, elapsed seconds to 0.1 s.
/// </summary>
public static class TrainingLog
{
    public const string Header = "step,loss,lr,val_loss,score,elapsed_s";

    public static string Format(TrainingLogRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        static string Optional(double? value) => value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{row.Step},{row.Loss:R},{row.LearningRate:R},{Optional(row.ValLoss)},{Optional(row.Score)},{row.ElapsedSeconds:F1}");
    }

    /// <summary>The row of <paramref name="line"/>, or null when it is not one (a line cut short by a crash).</summary>
    public static TrainingLogRow? Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var fields = line.Split(',');
        if (fields.Length != 6 || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var step)) return null;
        static bool Number(string text, out double value) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        static bool Optional(string text, out double? value)
        {
            value = null;
            if (text.Length == 0) return true;
            if (!Number(text, out var v)) return false;
            value = v;
            return true;
        }
        return Number(fields[1], out var loss) && Number(fields[2], out var lr) && Optional(fields[3], out var val) && Optional(fields[4], out var score)
            && Number(fields[5], out var elapsed)
            ? new TrainingLogRow(step, loss, lr, val, score, elapsed)
            : null;
    }

    /// <summary>The rows of the log at <paramref name="path"/>; lines that are not rows (a crash's cut line) are left out.</summary>
    /// <exception cref="InvalidDataException">The file does not begin with <see cref="Header"/>.</exception>
    public static IReadOnlyList<TrainingLogRow> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != Header) throw new InvalidDataException($"'{path}' is not a training log (its first line is not '{Header}').");
        return [.. lines.Skip(1).Select(Parse).OfType<TrainingLogRow>()];
    }

    /// <summary>
    /// Starts the log at <paramref name="path"/> for a run at <paramref name="step"/>: empty at step 0 or when there is
    /// none; otherwise the rows up to that step (those written after the last save, and a crash's cut line, are dropped),
    /// so a resumed run continues one curve. Written atomically.
    /// </summary>
    public static void Restart(string path, int step)
    {
        var kept = step == 0 || !File.Exists(path)
            ? []
            : File.ReadAllLines(path).Skip(1).Select(Parse).OfType<TrainingLogRow>().Where(r => r.Step <= step).Select(Format);
        AtomicFile.WriteAllText(path, string.Join("\n", kept.Prepend(Header)) + "\n");
    }

    public static void Append(string path, TrainingLogRow row) => File.AppendAllText(path, Format(row) + "\n");
}
