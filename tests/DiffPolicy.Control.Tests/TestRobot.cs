using System.Diagnostics;
using DiffPolicy.Protocol;
using DiffPolicy.Protocol.Transport;

namespace DiffPolicy.Control.Tests;

/// <summary>A robot for tests: a <see cref="RobotLink"/> plus the expectations tests make about replies.</summary>
internal sealed class TestRobot(string endpoint, string name, CurveClientKeys? curve = null) : IDisposable
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    readonly RobotLink link = new(endpoint, curve);
    ulong seq;

    public string Name { get; } = name;

    public RobotLink Link => link;

    public Welcome Hello()
    {
        Assert.True(link.Send(new Hello(MessageCodec.ProtocolVersion, Name)));
        return Expect<Welcome>();
    }

    public ulong SendObs(long episode, long step, float x, float y, bool infer = true)
    {
        var s = ++seq;
        Assert.True(link.Send(new Observation(s, episode, step, step * 0.1, infer, new Dictionary<string, float[]> { ["agent_pos"] = [x, y] })));
        return s;
    }

    /// <summary>Sends one observation that asks for actions and waits for its chunk.</summary>
    public ActionChunk Step(long episode, long step, float x, float y)
    {
        var s = SendObs(episode, step, x, y);
        var chunk = Expect<ActionChunk>();
        Assert.Equal(s, chunk.ObsSeq);
        return chunk;
    }

    public T Expect<T>(TimeSpan? timeout = null) where T : Message
    {
        var deadline = Stopwatch.GetTimestamp() + (long)((timeout ?? Patience).TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var left = TimeSpan.FromSeconds(Math.Max(0, (deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency));
            Assert.True(link.TryReceive(left, out var message), $"{Name}: no {typeof(T).Name} within {(timeout ?? Patience).TotalSeconds} s");
            if (message is T wanted)
            {
                return wanted;
            }
            Assert.Fail($"{Name}: expected {typeof(T).Name}, got {message}");
        }
    }

    public void ExpectSilence(TimeSpan span) => Assert.False(link.TryReceive(span, out var message), $"{Name}: unexpected {message}");

    public void Dispose() => link.Dispose();
}
