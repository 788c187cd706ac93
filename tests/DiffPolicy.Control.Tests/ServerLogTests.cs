using System.Collections.Concurrent;
using DiffPolicy.Protocol;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;

namespace DiffPolicy.Control.Tests;

/// <summary>The server's log: structured events for sessions and refusals, and no flood from a hostile connection.</summary>
public sealed class ServerLogTests
{
    /// <summary>Keeps every event with its id, level and structured fields.</summary>
    sealed class RecordingLogger : ILogger
    {
        public ConcurrentQueue<(EventId Id, LogLevel Level, IReadOnlyDictionary<string, object?> Fields, string Text)> Events { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            Events.Enqueue((eventId, logLevel, fields.ToDictionary(f => f.Key, f => f.Value), formatter(state, exception)));
        }

        public IEnumerable<(EventId Id, LogLevel Level, IReadOnlyDictionary<string, object?> Fields, string Text)> Named(string name) =>
            Events.Where(e => e.Id.Name == name);
    }

    static PolicyServerOptions Options(ILogger logger) => new() { Bind = "tcp://127.0.0.1:*", Logger = logger };

    [Fact]
    public void Sessions_opened_replaced_and_forgotten_are_logged_with_the_robot_as_a_field()
    {
        var log = new RecordingLogger();
        using (var run = new ServerRun(new EchoPolicy(), Options(log)))
        {
            using var robot = new TestRobot(run.Endpoint, "arm-1");
            robot.Hello();
            robot.Step(1, 0, 10, 20);
            robot.Hello();
            Assert.True(robot.Link.Send(new Bye()));
            robot.ExpectSilence(TimeSpan.FromMilliseconds(300));
        }
        Assert.Equal(["arm-1", "arm-1"], log.Named("SessionOpened").Select(e => e.Fields["Robot"]));
        Assert.Single(log.Named("SessionReplaced"));
        Assert.Equal(["hello again on its connection", "bye"], log.Named("SessionForgotten").Select(e => e.Fields["Reason"]));
        Assert.Single(log.Named("Started"));
        Assert.Single(log.Named("Stopped"));
        Assert.All(log.Events, e => Assert.NotEqual(LogLevel.Error, e.Level));
    }

    [Fact]
    public void A_connection_flooding_bad_frames_gets_a_bounded_number_of_log_lines_each_naming_the_code()
    {
        var log = new RecordingLogger();
        const int Frames = 2000;
        IReadOnlyDictionary<string, long> codes;
        using (var run = new ServerRun(new EchoPolicy(), Options(log)))
        {
            using var evil = new DealerSocket(run.Endpoint);
            for (var i = 0; i < Frames; i++) evil.SendFrame([0xC1, 0x00, (byte)i]);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (run.Server.Stats.TotalErrors < Frames && DateTime.UtcNow < deadline) Thread.Sleep(50);
            codes = run.Server.Stats.Errors;
            Assert.Equal(Frames, run.Server.Stats.TotalErrors);
        }
        var refused = log.Named("Refused").ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, e => Assert.Contains((string)e.Fields["Code"]!, codes.Keys));
        // At most LogBudget.PerSecond lines per second of flooding: far fewer than the frames, however slow the machine.
        Assert.True(refused.Count <= Frames / 10, $"{refused.Count} refusal lines for {Frames} bad frames");
    }
}
