using System.Diagnostics;
using System.Text.RegularExpressions;
using DiffPolicy.Protocol;
using DiffPolicy.Protocol.Transport;

namespace DiffPolicy.Cli.Tests;

/// <summary><c>diffpolicy serve</c> as a process: it serves robots and stops cleanly on SIGTERM.</summary>
public sealed partial class ServeCommandTests : IDisposable
{
    readonly TinyCheckpoint checkpoint = new();

    public void Dispose() => checkpoint.Dispose();

    [GeneratedRegex(@"serving .* on (tcp://\S+)")]
    private static partial Regex Serving();

    [Fact]
    public void Serve_answers_hello_and_ping_then_exits_0_on_SIGTERM()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "diffpolicy.dll"), "serve", "--checkpoint", checkpoint.Directory, "--bind", "tcp://127.0.0.1:*", "--threads", "1" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        try
        {
            string? endpoint = null;
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (endpoint is null && DateTime.UtcNow < deadline && process.StandardOutput.ReadLine() is { } line)
                endpoint = Serving().Match(line) is { Success: true } m ? m.Groups[1].Value : null;
            if (endpoint is null)
            {
                process.Kill();
                Assert.Fail($"serve printed no endpoint: {process.StandardError.ReadToEnd()}");
            }

            using (var link = new RobotLink(endpoint))
            {
                Assert.True(link.Send(new Hello(MessageCodec.ProtocolVersion, "probe")));
                Assert.True(link.TryReceive(TimeSpan.FromSeconds(30), out var welcome));
                var policy = Assert.IsType<Welcome>(welcome).Policy;
                Assert.Equal("keypoint", policy.ObsKeys[0].Name);
                Assert.Equal(18, policy.ObsKeys[0].Length);
                Assert.Equal(8, policy.NActionSteps);
                Assert.True(link.Send(new Ping(7, 1.5)));
                Assert.True(link.TryReceive(TimeSpan.FromSeconds(30), out var pong));
                Assert.Equal(new Pong(7, 1.5, Session: true), pong);
            }

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "serve did not stop within 30 s of SIGTERM");
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }
}
