using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// docs/protocol.md §9's minimal client, taken from the doc as printed and run on Debian's python3 against the
/// shipped server (<c>diffpolicy serve --checkpoint checkpoints/pusht</c>), and against no server at all.
/// </summary>
public sealed partial class ProtocolDocClientTests(ITestOutputHelper output) : IDisposable
{
    const string Python = "/usr/bin/python3";
    readonly string directory = Directory.CreateTempSubdirectory("protocol_doc_").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [GeneratedRegex(@"serving .* on (tcp://\S+)")]
    private static partial Regex Serving();

    [Fact]
    public async Task The_minimal_client_runs_as_printed_against_the_shipped_server()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "diffpolicy.dll"), "serve", "--checkpoint", Path.Combine(RepoPaths.Root, "checkpoints", "pusht"), "--bind", "tcp://127.0.0.1:*" })
        {
            start.ArgumentList.Add(arg);
        }
        using var server = Process.Start(start)!;
        try
        {
            // Loading, warming up and binding take seconds on a loaded machine; a server that never binds fails the test.
            string? endpoint = null;
            var ready = Task.Run(() =>
            {
                while (endpoint is null && server.StandardOutput.ReadLine() is { } line)
                {
                    endpoint = Serving().Match(line) is { Success: true } m ? m.Groups[1].Value : null;
                }
            });
            try
            {
                await ready.WaitAsync(TimeSpan.FromMinutes(5));
            }
            catch (TimeoutException)
            {
                server.Kill();
            }
            if (endpoint is null)
            {
                Assert.Fail($"serve printed no endpoint: {server.StandardError.ReadToEnd()}");
            }

            var (code, stdout, stderr) = RunClient(endpoint);
            Assert.True(code == 0, $"the §9 client exited with {code}: {stderr}");
            // It prints the n_action_steps (8) targets as numpy prints an 8 × 2 array.
            var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Trim('[', ']', ' ').Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray())
                .ToArray();
            Assert.Equal(8, rows.Length);
            Assert.All(rows, r => Assert.True(r.Length == 2 && r.All(v => v is > -100 and < 612), $"not an agent target: [{string.Join(", ", r)}]"));
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
            }
        }
    }

    [Fact]
    public void The_minimal_client_gives_up_after_its_receive_timeout_when_no_server_answers()
    {
        // A loopback port nobody listens on.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var endpoint = $"tcp://127.0.0.1:{port}";

        var watch = Stopwatch.StartNew();
        var (code, _, stderr) = RunClient(endpoint);
        Assert.Equal(1, code);
        Assert.Contains($"no answer from {endpoint} within", stderr, StringComparison.Ordinal);
        output.WriteLine($"gave up after {watch.Elapsed.TotalSeconds:F1} s: {stderr.Trim()}");
    }

    (int Code, string Stdout, string Stderr) RunClient(string endpoint)
    {
        var script = Path.Combine(directory, "client.py");
        File.WriteAllText(script, ProtocolDoc.MinimalClient());
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(endpoint);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            Assert.Fail("the §9 client did not finish within 2 minutes (it has a receive timeout)");
        }
        output.WriteLine(stdout.Result);
        output.WriteLine(stderr.Result);
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
