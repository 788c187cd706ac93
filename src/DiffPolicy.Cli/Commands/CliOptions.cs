using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using DiffPolicy.Data;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// Options made one way for every verb. Every number has a bound, checked by System.CommandLine when it parses
/// (so the message names the option and states the bound) and shown in --help as <c>[min–max]</c>; docs/cli.md
/// lists them all (a test compares the two). Input files must exist; output paths are checked later, by
/// <see cref="OutputPaths"/>, before a verb starts its work.
/// </summary>
internal static class CliOptions
{
    /// <summary>--checkpoint: a checkpoint directory, <see cref="PolicyOptions.DefaultCheckpoint"/> when not given.</summary>
    public static Option<DirectoryInfo> Checkpoint(string description) => new("--checkpoint")
    {
        Description = description,
        DefaultValueFactory = _ => new DirectoryInfo(PolicyOptions.DefaultCheckpoint),
    };

    public static Option<int> Int(string name, string description, int defaultValue, int min, int max) => Number(name, description, defaultValue, min, max);

    /// <summary>An optional number (null: the verb's or the checkpoint's default).</summary>
    public static Option<int?> OptionalInt(string name, string description, int min, int max) => OptionalNumber(name, description, min, max);

    public static Option<long> Long(string name, string description, long defaultValue, long min, long max) => Number(name, description, defaultValue, min, max);

    public static Option<ulong> ULong(string name, string description, ulong defaultValue, ulong max) => Number(name, description, defaultValue, 0UL, max);

    public static Option<double> Double(string name, string description, double defaultValue, double min, double max) => Number(name, description, defaultValue, min, max);

    public static Option<double?> OptionalDouble(string name, string description, double min, double max) => OptionalNumber(name, description, min, max);

    static Option<T> Number<T>(string name, string description, T defaultValue, T min, T max) where T : struct, INumber<T> => new(name)
    {
        Description = Bounded(description, min, max),
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseNumber(result, name, min, max) ?? defaultValue,
    };

    static Option<T?> OptionalNumber<T>(string name, string description, T min, T max) where T : struct, INumber<T> => new(name)
    {
        Description = Bounded(description, min, max),
        CustomParser = result => ParseNumber(result, name, min, max),
    };

    /// <summary>The option's one token as a number within [min, max] (finite), or null after adding an error that names the option and the bound.</summary>
    static T? ParseNumber<T>(ArgumentResult result, string name, T min, T max) where T : struct, INumber<T>
    {
        var real = typeof(T) == typeof(double) || typeof(T) == typeof(float);
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Join(' ', result.Tokens.Select(t => t.Value));
        if (T.TryParse(text, real ? NumberStyles.Float : NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            return value;
        result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} takes {(real ? "a number" : "a whole number")} in [{min}, {max}], not '{text}'."));
        return null;
    }

    /// <summary>An optional true or false (null: the checkpoint's setting); the value is required, so a stray word is not taken for a verb's argument.</summary>
    public static Option<bool?> OptionalBool(string name, string description) => new(name)
    {
        Description = $"{description} [true, false]",
        Arity = ArgumentArity.ExactlyOne,
        CustomParser = result =>
        {
            var text = string.Join(' ', result.Tokens.Select(t => t.Value));
            if (bool.TryParse(text, out var value)) return value;
            result.AddError($"{name} takes true or false, not '{text}'.");
            return null;
        },
    };

    /// <summary>One of the enum's values, spelled in snake_case as in the JSON configs (case-insensitive).</summary>
    public static Option<T> Choice<T>(string name, string description, T defaultValue) where T : struct, Enum => new(name)
    {
        Description = $"{description} [{string.Join(", ", Names<T>())}]",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseChoice<T>(result, name) ?? defaultValue,
    };

    /// <summary>An optional <see cref="Choice{T}"/> (null: the checkpoint's setting).</summary>
    public static Option<T?> OptionalChoice<T>(string name, string description) where T : struct, Enum => new(name)
    {
        Description = $"{description} [{string.Join(", ", Names<T>())}]",
        CustomParser = result => ParseChoice<T>(result, name),
    };

    /// <summary>Comma-separated <see cref="Choice{T}"/> values, at least one, each once.</summary>
    public static Option<T[]> ChoiceList<T>(string name, string description, params T[] defaultValues) where T : struct, Enum => new(name)
    {
        Description = $"{description} (default {string.Join(',', defaultValues.Select(Name))}) [{string.Join(", ", Names<T>())}]",
        DefaultValueFactory = _ => defaultValues,
        CustomParser = result =>
        {
            var text = string.Join(',', result.Tokens.Select(t => t.Value));
            var values = new List<T>();
            foreach (var item in Split(text))
            {
                if (Parse<T>(item) is not { } value)
                {
                    result.AddError($"{name} takes comma-separated values of {string.Join(", ", Names<T>())}, not '{text}'.");
                    return [];
                }
                values.Add(value);
            }
            if (values.Count == 0) result.AddError($"{name} needs at least one value.");
            return [.. values.Distinct()];
        },
    };

    static T? Parse<T>(string text) where T : struct, Enum =>
        Enum.TryParse<T>(text.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var value) && Enum.IsDefined(value) && !text.Any(char.IsDigit)
            ? value
            : null;

    static string Name<T>(T value) where T : struct, Enum => SnakeCaseJson.Name(value);

    static T? ParseChoice<T>(ArgumentResult result, string name) where T : struct, Enum
    {
        var text = string.Join(' ', result.Tokens.Select(t => t.Value));
        if (Parse<T>(text) is { } parsed) return parsed;
        result.AddError($"{name} takes one of {string.Join(", ", Names<T>())}, not '{text}'.");
        return null;
    }

    static IEnumerable<string> Names<T>() where T : struct, Enum =>
        Enum.GetNames<T>().Select(System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName);

    /// <summary>Comma-separated whole numbers, each within the bound, at least one.</summary>
    public static Option<int[]> IntList(string name, string description, string defaultValue, int min, int max)
    {
        return new Option<int[]>(name)
        {
            Description = Bounded($"{description} (default {defaultValue})", min, max),
            DefaultValueFactory = _ => Split(defaultValue).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray(),
            CustomParser = result =>
            {
                var text = string.Join(',', result.Tokens.Select(t => t.Value));
                var values = new List<int>();
                foreach (var item in Split(text))
                {
                    if (!int.TryParse(item, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
                    {
                        result.AddError($"{name} takes comma-separated whole numbers in [{min}, {max}], not '{text}'.");
                        return [];
                    }
                    values.Add(value);
                }
                if (values.Count == 0) result.AddError($"{name} needs at least one value.");
                return [.. values];
            },
        };
    }

    /// <summary>A duration: 90s, 10m, 1h, 1.5m or plain seconds, in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue, TimeSpan min, TimeSpan max)
    {
        return new Option<TimeSpan>(name)
        {
            Description = $"{description} [{Format(min)}–{Format(max)}]",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (ParseDuration(text) is { } value && value >= min && value <= max) return value;
                result.AddError($"{name} takes a duration in [{Format(min)}, {Format(max)}] such as 90s, 10m or 1h (or seconds), not '{text}'.");
                return default;
            },
        };
    }

    /// <summary>"90s", "10m", "1h", "1.5m" or plain seconds, positive and at most 10,000 days; else null.</summary>
    internal static TimeSpan? ParseDuration(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (number, unit) = text.Length > 0 && char.IsLetter(text[^1]) ? (text[..^1], text[^1]) : (text, 's');
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value <= 0) return null;
        var seconds = unit switch
        {
            's' => value,
            'm' => value * 60,
            'h' => value * 3600,
            _ => double.NaN,
        };
        return seconds <= TimeSpan.FromDays(10_000).TotalSeconds ? TimeSpan.FromSeconds(seconds) : null;
    }

    /// <summary>A file that must exist.</summary>
    public static Option<FileInfo> InputFile(string name, string description, bool required = true)
    {
        var option = new Option<FileInfo>(name) { Description = description, Required = required };
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && new FileInfo(result.Tokens[0].Value) is var file && !file.Exists)
                result.AddError(Directory.Exists(file.FullName) ? $"{name}: '{file.FullName}' is a folder, not a file." : $"{name}: no file at '{file.FullName}'.");
        });
        return option;
    }

    /// <summary>A folder that must exist.</summary>
    public static Option<DirectoryInfo> InputFolder(string name, string description, bool required = true)
    {
        var option = new Option<DirectoryInfo>(name) { Description = description, Required = required };
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && new DirectoryInfo(result.Tokens[0].Value) is var folder && !folder.Exists)
                result.AddError(File.Exists(folder.FullName) ? $"{name}: '{folder.FullName}' is a file, not a folder." : $"{name}: no folder at '{folder.FullName}'.");
        });
        return option;
    }

    /// <summary>A file the verb writes (checked with <see cref="OutputPaths.File"/> before the work starts).</summary>
    public static Option<FileInfo?> OutputFile(string name, string description, bool required = false) =>
        new(name) { Description = description, Required = required };

    /// <summary>A folder the verb writes into (created, and checked with <see cref="OutputPaths.Folder"/> before the work starts).</summary>
    public static Option<DirectoryInfo?> OutputFolder(string name, string description, bool required = false) =>
        new(name) { Description = description, Required = required };

    public static Option<string> Device() => new("--device")
    {
        Description = "Torch device: auto (CUDA when available, else CPU), cpu, cuda or cuda:N.",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>More intra-op threads than this only contend: a bound so that a typo cannot start thousands.</summary>
    public const int MaxThreads = 256;

    public static Option<int> Threads() =>
        Int("--threads", "libtorch intra-op threads (0 = libtorch's default: one per core).", 0, 0, MaxThreads);

    static string Bounded<T>(string description, T min, T max) where T : INumber<T> =>
        string.Create(CultureInfo.InvariantCulture, $"{description} [{min}–{max}]");

    static string[] Split(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    static string Format(TimeSpan span) =>
        span.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0.##}h") : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.##}s");
}
