using System.Text.Json;

namespace DiffPolicy.Protocol.Tests;

/// <summary>
/// The wire described once: docs/protocol.md §3 names each message's keys with their types, and this test holds our
/// frames to it as an independent decoder sees them. Each message is encoded by <see cref="MessageCodec"/> (every
/// optional key present, and again with none), decoded by Python's msgpack (Debian's python3-msgpack, installed by
/// tests/run.sh), and every key must be documented for its message with a type of the same MessagePack kind (§2:
/// uint/int → int, float → float, str, bool, f32[…]/u8[…] → bin, map, array), every required key present.
/// </summary>
public sealed class WireSchemaTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("wire-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    static readonly PolicyMetadata Metadata = new([new ObsKey("agent_pos", [2]), new ObsKey("image", [4, 4, 3], ObsKey.Rgb)], 2, 16, 8, 2, 10);

    /// <summary>(heading of the message's table in §3, its column in that table (pong shares ping's), the type it sends, the message).</summary>
    static IEnumerable<(string Heading, int Column, string Type, Message Message)> Messages()
    {
        var data = new Dictionary<string, float[]> { ["agent_pos"] = [1.5f, -2] };
        var frames = new Dictionary<string, byte[]> { ["image"] = new byte[48] };
        yield return ("### `hello`", 1, "hello", new Hello(MessageCodec.ProtocolVersion, "arm-1"));
        yield return ("### `welcome`", 1, "welcome", new Welcome(MessageCodec.ProtocolVersion, "arm-1", "diffpolicy", Metadata, 10, 1 << 20));
        yield return ("### `obs`", 1, "obs", new Observation(7, 1, 3, 0.25, true, data, new PlanPrior([0.5f, 0.5f, 1, 1], 1, [1, 0.5f])) { Frames = frames, DeadlineMs = 80 });
        yield return ("### `obs`", 1, "obs", new Observation(8, 1, 4, 0.35, false, data) { Frames = frames });
        yield return ("### `infer`", 1, "infer", new InferRequest(9, 2, 5, 0.5, new Dictionary<string, float[]> { ["agent_pos"] = [1, 2, 3, 4] }) { DeadlineMs = 50 });
        yield return ("### `infer`", 1, "infer", new InferRequest(10, 2, 6, 0.6, new Dictionary<string, float[]> { ["agent_pos"] = [1, 2, 3, 4] }));
        var timing = new ServerTiming(1.5, 40, 12, 96);
        yield return ("### `actions`", 1, "actions", new ActionChunk(7, 0.25, 1, 3, 0.1, 15, 2, new float[30], timing) { Certificate = new ChunkCertificate(60, 100, 0.3, 0.1) });
        yield return ("### `actions`", 1, "actions", new ActionChunk(7, 0.25, 1, 3, 0.1, 15, 2, new float[30], timing));
        yield return ("### `reset`", 1, "reset", new Reset());
        yield return ("### `ping`", 1, "ping", new Ping(11, 1.25));
        yield return ("### `ping`", 2, "pong", new Pong(11, 1.25, true));
        yield return ("### `error`", 1, "error", new ProtocolError(ErrorCodes.BadShape, "'agent_pos' has 3 values", 7));
        yield return ("### `error`", 1, "error", new ProtocolError(ErrorCodes.BadFrame, "not a map", null));
        yield return ("### `bye`", 1, "bye", new Bye());
    }

    /// <summary>The MessagePack kind a documented type must arrive as, in Python's names.</summary>
    static string Kind(string documented)
    {
        var first = documented.TrimStart('`');
        if (first.StartsWith("map", StringComparison.Ordinal)) return "dict";
        if (first.StartsWith("array", StringComparison.Ordinal)) return "list";
        if (first.StartsWith("f32[", StringComparison.Ordinal) || first.StartsWith("u8[", StringComparison.Ordinal)) return "bytes";
        if (first.StartsWith("uint", StringComparison.Ordinal) || first.StartsWith("int", StringComparison.Ordinal)) return "int";
        if (first.StartsWith("float", StringComparison.Ordinal)) return "float";
        if (first.StartsWith("str", StringComparison.Ordinal)) return "str";
        if (first.StartsWith("bool", StringComparison.Ordinal)) return "bool";
        throw new InvalidOperationException($"docs/protocol.md: a type this test does not know: {documented}");
    }

    [Fact]
    public void Every_frame_as_python_msgpack_decodes_it_has_exactly_the_documented_keys_and_kinds()
    {
        var messages = Messages().ToList();
        var path = Path.Combine(folder, "frames.txt");
        File.WriteAllLines(path, messages.Select(m => Convert.ToBase64String(MessageCodec.Encode(m.Message))));
        var printed = NumpyPython.Run($$"""
            import base64, json, msgpack
            out = []
            for line in open({{JsonSerializer.Serialize(path)}}):
                frame = msgpack.unpackb(base64.b64decode(line), raw=False, strict_map_key=True)
                kinds = {k: type(v).__name__ for k, v in frame.items()}
                nested = {k: sorted({type(x).__name__ for x in (v.values() if isinstance(v, dict) else v)}) for k, v in frame.items() if isinstance(v, (dict, list))}
                items = {k: sorted(x.keys()) for k, v in frame.items() if isinstance(v, list) for x in v if isinstance(x, dict)}
                out.append({"type": frame.get("type"), "kinds": kinds, "nested": nested, "items": items})
            print(json.dumps(out))
            """);
        using var decoded = JsonDocument.Parse(printed);
        var frames = decoded.RootElement.EnumerateArray().ToList();
        Assert.Equal(messages.Count, frames.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            var (heading, column, type, message) = messages[i];
            var documented = ProtocolDoc.MessageKeys(heading, column);
            var frame = frames[i];
            Assert.Equal(type, frame.GetProperty("type").GetString());
            var kinds = frame.GetProperty("kinds").EnumerateObject().Where(p => p.Name != "type").ToDictionary(p => p.Name, p => p.Value.GetString());
            foreach (var (key, kind) in kinds)
            {
                Assert.True(documented.TryGetValue(key, out var doc), $"{type}: key '{key}' is not in docs/protocol.md {heading}");
                Assert.True(Kind(doc.Type) == kind, $"{type}.{key}: documented {doc.Type}, Python msgpack reads {kind}");
            }
            foreach (var (key, doc) in documented.Where(d => !d.Value.Optional))
                Assert.True(kinds.ContainsKey(key), $"{type}: the documented key '{key}' is missing from {message}");
        }

        // Inside the maps and arrays: obs maps keys to bin (f32 values, u8 frames); welcome lists keys as documented.
        var obs = frames[2];
        Assert.Equal(["bytes"], obs.GetProperty("nested").GetProperty("obs").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["name", "shape", "type"], frames[1].GetProperty("items").GetProperty("obs_keys").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Every_documented_key_is_sent_by_some_message()
    {
        var messages = Messages().ToList();
        foreach (var group in messages.GroupBy(m => (m.Heading, m.Column)))
        {
            var sent = group.SelectMany(m => Keys(MessageCodec.Encode(m.Message))).ToHashSet();
            foreach (var key in ProtocolDoc.MessageKeys(group.Key.Heading, group.Key.Column).Keys)
                Assert.True(sent.Contains(key), $"docs/protocol.md {group.Key.Heading} documents '{key}', which no encoded {group.First().Type} carries");
        }
    }

    /// <summary>The top-level keys of a frame, read with the C# decoder's own MessagePack reader.</summary>
    static IEnumerable<string> Keys(byte[] frame)
    {
        var reader = new MessagePack.MessagePackReader(frame);
        var count = reader.ReadMapHeader();
        var keys = new List<string>();
        for (var i = 0; i < count; i++)
        {
            keys.Add(reader.ReadString()!);
            reader.Skip();
        }
        return keys;
    }
}
