using System.Globalization;
using System.Text;
using System.Text.Json;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Tests;

/// <summary>
/// docs/protocol.md §3a defines the PushT <c>keypoint</c> observation for outsiders, and §9's client computes it;
/// both must be what <see cref="PushTEnv.Keypoints"/> sends (the order the shipped policy was trained on).
/// </summary>
public class ProtocolDocKeypointTests
{
    /// <summary>Seeded resets, each pushed for a while so the block is turned and moved.</summary>
    static List<PushTEnv> Scenes()
    {
        var scenes = new List<PushTEnv>();
        var random = new Random(7);
        for (var seed = 100000; seed < 100008; seed++)
        {
            var env = new PushTEnv(seed);
            var target = env.State.Block + new Vec2(20, 45);
            for (var k = 0; k < 10 + random.Next(20); k++)
            {
                env.Step(target + new Vec2(random.NextDouble() * 60 - 30, random.NextDouble() * 60 - 30));
            }
            scenes.Add(env);
        }
        return scenes;
    }

    [Fact]
    public void The_docs_keypoint_table_and_formula_give_PushTEnvs_keypoints()
    {
        var table = ProtocolDoc.KeypointTable();
        Assert.Equal(9, table.Count);
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (2 * i, 2 * i + 1)), table.Select(r => (r.X, r.Y)));
        Assert.Equal(4, table.Count(r => r.Point == "bar corner"));
        Assert.Equal(4, table.Count(r => r.Point == "stem corner"));
        Assert.Equal("agent", table[^1].Point);
        foreach (var env in Scenes())
        {
            var expected = env.Keypoints();
            var s = env.State;
            var (c, sn) = (Math.Cos(s.BlockAngle), Math.Sin(s.BlockAngle));
            foreach (var row in table)
            {
                // §3a: X = bx + x·cos θ − y·sin θ, Y = by + x·sin θ + y·cos θ; the agent where it is.
                var (x, y) = row.Local is { } l ? (s.BlockX + l.X * c - l.Y * sn, s.BlockY + l.X * sn + l.Y * c) : (s.AgentX, s.AgentY);
                Assert.Equal(expected[row.X], x, 1e-9);
                Assert.Equal(expected[row.Y], y, 1e-9);
            }
        }
    }

    [Fact]
    public void The_docs_client_computes_PushTEnvs_keypoints()
    {
        var scenes = Scenes();
        var calls = new StringBuilder();
        foreach (var env in scenes)
        {
            var s = env.State;
            calls.Append(CultureInfo.InvariantCulture, $"print(json.dumps(pusht_keypoints([{s.AgentX:R}, {s.AgentY:R}], [{s.BlockX:R}, {s.BlockY:R}], {s.BlockAngle:R}).tolist()))\n");
        }
        // Only the client's definitions run (imports, constants, functions), not its conversation with a server.
        var script = $$"""
            import ast, json
            source = json.loads({{JsonSerializer.Serialize(JsonSerializer.Serialize(ProtocolDoc.MinimalClient()))}})
            tree = ast.parse(source)
            keep = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef))
                    or (isinstance(n, ast.Assign) and all(isinstance(t, ast.Name) and t.id.isupper() for t in n.targets)
                        and not isinstance(n.value, ast.IfExp))]
            exec(compile(ast.Module(body=keep, type_ignores=[]), "docs/protocol.md §9", "exec"))
            {{calls}}
            """;
        var lines = NumpyPython.Run(script).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(scenes.Count, lines.Length);
        for (var i = 0; i < scenes.Count; i++)
        {
            var doc = JsonSerializer.Deserialize<double[]>(lines[i])!;
            var expected = scenes[i].Keypoints();
            Assert.Equal(18, doc.Length);
            for (var j = 0; j < 18; j++)
            {
                // The client sends float32 (steps of 3e-5 near 512) and may round its products differently.
                Assert.Equal(expected[j], doc[j], 1e-4);
            }
        }
    }
}
