using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffPolicy.Data;

/// <summary>
/// The one set of JSON options for the files we read and write in snake_case (configs, checkpoints' JSON, reports,
/// progress files): snake_case names, enums by their snake_case name, no unknown keys on reading (a typo is refused
/// naming the key), NaN and ±Infinity written as strings (reports of empty runs), comments and trailing commas allowed
/// in hand-written configs, indented.
/// </summary>
public static class SnakeCaseJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>The same options on one line (JSON Lines progress files).</summary>
    public static JsonSerializerOptions Compact { get; } = new(Options) { WriteIndented = false };

    /// <summary>An enum value as these options and the command line spell it: DpmSolver → dpm_solver.</summary>
    public static string Name<T>(T value) where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
}
