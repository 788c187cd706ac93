using System.Text.Json.Nodes;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Replay;

namespace DiffPolicy.Sim.PushT.Tests;

public class ReplayFileTests
{
    [Fact]
    public void A_seed_scenario_comes_back_in_the_reference_format()
    {
        var scenario = (JsonObject)JsonNode.Parse("""{"seed": 100002, "actions": [[100, 100], [120, 130], [300, 310]], "note": "kept"}""")!;
        var result = ReplayResult.Run(ReplayFile.Parse(scenario, 0));
        var output = ReplayFile.WithResult(scenario, result);

        Assert.Equal(PushTState.Sample(100002).ToArray(), output["initial_state"]!.AsArray().Select(v => v!.GetValue<double>()));
        var states = output["states"]!.AsArray();
        Assert.Equal(4, states.Count);
        Assert.All(states, row => Assert.Equal(5, row!.AsArray().Count));
        Assert.Equal(4, output["coverage"]!.AsArray().Count);
        Assert.Equal("kept", output["note"]!.GetValue<string>());
        // Round trip through text: the serialised array parses back to the same scenario.
        var reparsed = JsonNode.Parse(ReplayFile.Serialize([output]))!.AsArray();
        Assert.Equal(output.ToJsonString(), reparsed[0]!.ToJsonString());
    }

    [Theory]
    [InlineData("""{"actions": [[1, 2]]}""", "needs \"initial_state\" or \"seed\"")]
    [InlineData("""{"seed": -3, "actions": []}""", "seed must be an integer")]
    [InlineData("""{"seed": 1.5, "actions": []}""", "seed must be an integer")]
    [InlineData("""{"initial_state": [1, 2, 3, 4], "actions": []}""", "5 numbers")]
    [InlineData("""{"initial_state": [1, 2, 3, 4, "x"], "actions": []}""", "expected numbers")]
    [InlineData("""{"seed": 1}""", "needs \"actions\"")]
    [InlineData("""{"seed": 1, "actions": [[1, 2, 3]]}""", "actions[0] must be [x, y]")]
    public void Malformed_scenarios_are_rejected_with_the_field_named(string json, string message)
    {
        var scenario = (JsonObject)JsonNode.Parse(json)!;
        var error = Assert.Throws<InvalidDataException>(() => ReplayFile.Parse(scenario, 4));
        Assert.Contains("scenario 4", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_or_malformed_files_are_reported()
    {
        Assert.Throws<FileNotFoundException>(() => ReplayFile.Load("/nonexistent/replay.json"));
        var path = Path.Combine(Path.GetTempPath(), $"replay-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, "{\"not\": \"an array\"}");
            Assert.Contains("expected a JSON array", Assert.Throws<InvalidDataException>(() => ReplayFile.Load(path)).Message, StringComparison.Ordinal);
            File.WriteAllText(path, "[{");
            Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => ReplayFile.Load(path)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
