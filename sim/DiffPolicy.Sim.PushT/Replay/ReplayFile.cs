using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Replay;

/// <summary>
/// The replay JSON format (that of shared/fixtures/pusht/reference_trajectories.json): an array of scenarios,
/// each with <c>seed</c> or <c>initial_state</c> and <c>actions</c>; results add <c>initial_state</c>,
/// <c>states</c> and <c>coverage</c>, keeping any other field of the scenario as it was.
/// </summary>
public static class ReplayFile
{
    public static IReadOnlyList<JsonObject> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"replay input not found: {path}", path);
        }
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
        if (root is not JsonArray array)
        {
            throw new InvalidDataException($"{path}: expected a JSON array of scenarios");
        }
        var scenarios = new List<JsonObject>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            scenarios.Add(array[i] as JsonObject ?? throw new InvalidDataException($"{path}: scenario {i} is not a JSON object"));
        }
        return scenarios;
    }

    /// <summary>Reads the request part of a scenario object, with errors that name the scenario and the field.</summary>
    public static ReplayScenario Parse(JsonObject scenario, int index)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var where = $"scenario {index}";
        PushTState? initial = null;
        long? seed = null;
        if (scenario["initial_state"] is { } stateNode)
        {
            var values = Numbers(stateNode, $"{where}: initial_state");
            if (values.Count != 5)
            {
                throw new InvalidDataException($"{where}: initial_state must have 5 numbers (agent x, y, block x, y, angle), got {values.Count}");
            }
            initial = PushTState.FromArray(values);
        }
        else if (scenario["seed"] is { } seedNode)
        {
            seed = seedNode.GetValueKind() == JsonValueKind.Number && seedNode.AsValue().TryGetValue(out long s) && s is >= 0 and <= uint.MaxValue
                ? s
                : throw new InvalidDataException($"{where}: seed must be an integer in [0, 2^32)");
        }
        else
        {
            throw new InvalidDataException($"{where}: needs \"initial_state\" or \"seed\"");
        }
        if (scenario["actions"] is not JsonArray actionsNode)
        {
            throw new InvalidDataException($"{where}: needs \"actions\", an array of [x, y]");
        }
        var actions = new List<Vec2>(actionsNode.Count);
        for (var i = 0; i < actionsNode.Count; i++)
        {
            var xy = Numbers(actionsNode[i], $"{where}: actions[{i}]");
            if (xy.Count != 2)
            {
                throw new InvalidDataException($"{where}: actions[{i}] must be [x, y], got {xy.Count} numbers");
            }
            actions.Add(new Vec2(xy[0], xy[1]));
        }
        return new ReplayScenario(seed, initial, actions);
    }

    /// <summary>The scenario object with <c>initial_state</c>, <c>states</c> and <c>coverage</c> set from the result.</summary>
    public static JsonObject WithResult(JsonObject scenario, ReplayResult result)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(result);
        var output = (JsonObject)scenario.DeepClone();
        output["initial_state"] = Array(result.InitialState.ToArray());
        output["states"] = new JsonArray(result.States.Select(s => (JsonNode?)Array(s.ToArray())).ToArray());
        output["coverage"] = Array(result.Coverage);
        return output;
    }

    public static string Serialize(IEnumerable<JsonObject> scenarios) =>
        new JsonArray(scenarios.Select(s => (JsonNode?)s).ToArray()).ToJsonString();

    static JsonArray Array(IEnumerable<double> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    static List<double> Numbers(JsonNode? node, string what)
    {
        if (node is not JsonArray array)
        {
            throw new InvalidDataException($"{what}: expected an array of numbers");
        }
        var values = new List<double>(array.Count);
        foreach (var item in array)
        {
            if (item is null || item.GetValueKind() != JsonValueKind.Number)
            {
                throw new InvalidDataException($"{what}: expected numbers, got {item?.ToJsonString() ?? "null"}");
            }
            var v = item.GetValue<double>();
            if (!double.IsFinite(v))
            {
                throw new InvalidDataException($"{what}: {v.ToString(CultureInfo.InvariantCulture)} is not finite");
            }
            values.Add(v);
        }
        return values;
    }
}
