using System.Buffers.Binary;
using CsCheck;
using DiffPolicy.Protocol;
using MessagePack;

namespace DiffPolicy.Control.Tests;

/// <summary>Generators of what a broken or malicious client sends: every frame the server must refuse or shrug off.</summary>
internal static class HostileFrames
{
    static readonly Gen<byte[]> RandomBytes = Gen.Byte.Array[0, 256];

    static readonly Gen<byte[]> ValidObs = Gen.Select(Gen.Long[0, 1000], Gen.Float[-10, 10], (step, x) =>
        MessageCodec.Encode(new Observation((ulong)step, 0, step, 0, true, new Dictionary<string, float[]> { ["agent_pos"] = [x, x] })));

    static readonly Gen<byte[]> Truncated = Gen.Select(ValidObs, Gen.Double[0, 1], (frame, cut) => frame[..(int)(cut * frame.Length)]);

    static readonly Gen<byte[]> Mutated = Gen.Select(ValidObs, Gen.Int.Positive, Gen.Byte, (frame, at, value) =>
    {
        frame[at % frame.Length] = value;
        return frame;
    });

    static readonly Gen<object?> AnyValue = Gen.OneOf<object?>(
        Gen.Bool.Select(_ => (object?)null), Gen.Bool.Select(b => (object?)b), Gen.Long.Select(l => (object?)l), Gen.Double.Select(d => (object?)d),
        Gen.String[0, 40].Select(s => (object?)s), Gen.Byte.Array[0, 40].Select(b => (object?)b), Gen.Int.Array[0, 5].Select(a => (object?)a));

    static readonly Gen<string> Field = Pick("type", "seq", "episode", "step", "t", "infer", "obs", "robot", "protocol");

    static readonly Gen<byte[]> WrongTypes = Gen.Select(Field, AnyValue, Pick("obs", "hello", "ping", "reset"), (field, value, type) =>
        Serialize(Map(type, (field, value))));

    static readonly Gen<byte[]> NonFinite = Gen.Select(Pick(float.NaN, float.PositiveInfinity, float.NegativeInfinity), Gen.Int[0, 1], (bad, at) =>
    {
        float[] values = [1, 1];
        values[at] = bad;
        return Serialize(Map("obs", ("obs", new Dictionary<string, object?> { ["agent_pos"] = Floats(values) })));
    });

    static readonly Gen<byte[]> WrongShapes = Gen.Select(Pick("agent_pos", "image", ""), Gen.Float.Array[0, 9], (key, values) =>
        Serialize(Map("obs", ("obs", new Dictionary<string, object?> { [key] = Floats(values) }))));

    static readonly Gen<byte[]> DeepNesting = Gen.Select(Gen.Int[9, 20_000], Gen.Bool, (depth, maps) =>
    {
        // {"type": "obs", "obs": [[[[…]]]]} or {…: {"a": {"a": …}}}
        var head = Serialize(new Dictionary<string, object?> { ["type"] = "obs" });
        var frame = new List<byte>(head.Length + 3 * depth) { (byte)(head[0] + 1) };
        frame.AddRange(head[1..]);
        frame.AddRange([0xa3, (byte)'o', (byte)'b', (byte)'s']);
        for (var i = 0; i < depth; i++)
        {
            frame.AddRange(maps ? [0x81, 0xa1, (byte)'a'] : [0x91]);
        }
        frame.Add(0xc0);
        return frame.ToArray();
    });

    static readonly Gen<byte[]> UnknownTypes = Gen.String[0, 30].Select(type => Serialize(Map(type)));

    static readonly Gen<byte[]> OutOfOrder = Gen.Long[0, 5].Select(step =>
        MessageCodec.Encode(new Observation(1, 0, step, 0, false, new Dictionary<string, float[]> { ["agent_pos"] = [0, 0] })));

    /// <summary>A mix of everything above, valid observations included (a flood of them must only be superseded).</summary>
    public static Gen<byte[]> Any { get; } = Gen.Frequency<byte[]>(
        (3, RandomBytes), (2, Truncated), (2, Mutated), (3, WrongTypes), (1, NonFinite), (1, WrongShapes), (1, DeepNesting),
        (1, UnknownTypes), (1, OutOfOrder), (2, ValidObs));

    /// <summary>Just over the frame limit: answered with too_large.</summary>
    public static byte[] Oversized() => Serialize(new Dictionary<string, object?> { ["type"] = "obs", ["pad"] = new byte[ProtocolLimits.Default.MaxFrameBytes] });

    static Gen<T> Pick<T>(params T[] items) => Gen.Int[0, items.Length - 1].Select(i => items[i]);

    static Dictionary<string, object?> Map(string type, params (string Key, object? Value)[] fields)
    {
        var map = new Dictionary<string, object?> { ["type"] = type, ["seq"] = 1, ["episode"] = 0, ["step"] = 0, ["t"] = 0.0 };
        foreach (var (key, value) in fields)
        {
            map[key] = value;
        }
        return map;
    }

    static byte[] Serialize(Dictionary<string, object?> map) => MessagePackSerializer.Serialize(map);

    static byte[] Floats(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }
        return bytes;
    }
}
