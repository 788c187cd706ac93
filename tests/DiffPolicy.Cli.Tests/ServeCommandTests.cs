using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using DiffPolicy.Protocol;
using DiffPolicy.Protocol.Transport;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// <c>diffpolicy serve</c> as a process: it serves robots, with CurveZMQ beyond loopback, and stops cleanly on
/// SIGTERM; <c>diffpolicy pusht robot</c> as a process against it.
/// </summary>
public sealed partial class ServeCommandTests : IDisposable
{
    readonly TinyCheckpoint checkpoint = new();

    public void Dispose() => checkpoint.Dispose();

    [GeneratedRegex(@"serving .* on (tcp://\S+)")]
    private static partial Regex Serving();

    [GeneratedRegex(@"curve public key: (\S{40})")]
    private static partial Regex CurvePublicKey();

    static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "diffpolicy.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    /// <summary>
    /// How long a child may take before the test calls it hung: a hang guard, not a timing. At nice 19 beside a run
    /// using both cores, a child gets a small share of one, and starting .NET and libtorch takes seconds of CPU.
    /// </summary>
    static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(5);

    static void Terminate(Process process)
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        Assert.True(process.WaitForExit(HangGuard), $"serve did not stop within {HangGuard.TotalMinutes} minutes of SIGTERM");
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public void Serve_refuses_to_bind_beyond_loopback_without_a_curve_key()
    {
        using var process = Start("serve", "--checkpoint", checkpoint.Directory, "--bind", "tcp://0.0.0.0:*");
        Assert.True(process.WaitForExit(HangGuard));
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("--curve-secret-key", process.StandardError.ReadToEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_curve_server_on_all_interfaces_serves_the_pusht_robot_given_its_public_key()
    {
        var keys = new NetMQ.NetMQCertificate();
        var keyFile = Path.Combine(Path.GetDirectoryName(checkpoint.Directory)!, "server.key");
        File.WriteAllText(keyFile, keys.SecretKeyZ85 + "\n");
        using var server = Start("serve", "--checkpoint", checkpoint.Directory, "--bind", "tcp://0.0.0.0:*", "--curve-secret-key", keyFile, "--threads", "1");
        try
        {
            string? endpoint = null, publicKey = null;
            var deadline = DateTime.UtcNow + HangGuard;
            while (publicKey is null && DateTime.UtcNow < deadline && server.StandardOutput.ReadLine() is { } line)
            {
                endpoint ??= Serving().Match(line) is { Success: true } m ? m.Groups[1].Value : null;
                publicKey = CurvePublicKey().Match(line) is { Success: true } k ? k.Groups[1].Value : null;
            }
            if (endpoint is null || publicKey is null)
            {
                server.Kill();
                Assert.Fail($"serve printed no endpoint or key: {server.StandardError.ReadToEnd()}");
            }
            Assert.Equal(keys.PublicKeyZ85, publicKey);

            var output = Path.Combine(Path.GetDirectoryName(checkpoint.Directory)!, "robot");
            var report = Path.Combine(output, "report.json");
            Directory.CreateDirectory(output);
            using (var robot = Start("pusht", "robot", "--connect", endpoint!.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal),
                "--curve-server-key", publicKey!, "--max-steps", "12", "--seed-start", "3", "--json", report, "--video", output))
            {
                // Both pipes read while it runs: a child blocked on a full pipe would look hung.
                var robotOutput = robot.StandardOutput.ReadToEndAsync();
                var robotError = robot.StandardError.ReadToEndAsync();
                var finished = robot.WaitForExit(HangGuard);
                if (!finished) robot.Kill(entireProcessTree: true);
                Assert.True(finished, $"the robot did not finish within {HangGuard.TotalMinutes} minutes");
                await robotOutput;
                Assert.True(robot.ExitCode == 0, await robotError);
            }

            using var json = JsonDocument.Parse(File.ReadAllText(report));
            var episode = json.RootElement.GetProperty("per_episode")[0];
            Assert.Equal(3, episode.GetProperty("seed").GetInt64());
            Assert.Equal(12, episode.GetProperty("steps").GetInt32());
            Assert.Equal(2, episode.GetProperty("chunks").GetInt32());   // lockstep: 8 actions per chunk
            var gif = File.ReadAllBytes(Path.Combine(output, "episode_3.gif"));
            Assert.Equal("GIF89a"u8.ToArray(), gif[..6]);

            Terminate(server);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
        }
    }

    [Fact]
    public void Serve_answers_hello_and_ping_then_exits_0_on_SIGTERM()
    {
        using var process = Start("serve", "--checkpoint", checkpoint.Directory, "--bind", "tcp://127.0.0.1:*", "--threads", "1");
        try
        {
            string? endpoint = null;
            var deadline = DateTime.UtcNow + HangGuard;
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
                Assert.True(link.TryReceive(HangGuard, out var welcome));
                var policy = Assert.IsType<Welcome>(welcome).Policy;
                Assert.Equal("keypoint", policy.ObsKeys[0].Name);
                Assert.Equal(18, policy.ObsKeys[0].Length);
                Assert.Equal(8, policy.NActionSteps);
                Assert.True(link.Send(new Ping(7, 1.5)));
                Assert.True(link.TryReceive(HangGuard, out var pong));
                Assert.Equal(new Pong(7, 1.5, Session: true), pong);
            }

            Terminate(process);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }
}
