using System.CommandLine;
using System.Globalization;
using DiffPolicy.Cli.Robot;
using DiffPolicy.Protocol.Transport;
using DiffPolicy.Sim.PushT.Rendering;
using DiffPolicy.Sim.PushT.Robot;
using NetMQ;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy pusht robot</c>: the simulator as a robot of a running policy server.</summary>
internal static class PushtRobotCommand
{
    public static Command Create()
    {
        var connect = new Option<string>("--connect") { Description = "The policy server's endpoint.", DefaultValueFactory = _ => "tcp://127.0.0.1:5555" };
        var mode = new Option<RobotMode>("--mode")
        {
            Description = "lockstep: wait for each chunk (the papers' protocol); realtime: 10 Hz wall-clock ticks, late actions dropped, misses counted.",
            DefaultValueFactory = _ => RobotMode.Lockstep,
        };
        mode.AcceptOnlyFromAmong("lockstep", "realtime");
        var episodes = new Option<int>("--episodes") { Description = "Episodes, one per consecutive seed.", DefaultValueFactory = _ => 1 };
        var firstSeed = new Option<long>("--seed-start") { Description = "First seed (also the episode number on the wire).", DefaultValueFactory = _ => 100_000 };
        var maxSteps = new Option<int>("--max-steps") { Description = "Control steps per episode at most (stops early on success).", DefaultValueFactory = _ => 300 };
        var lead = new Option<int?>("--lead") { Description = "Real time: ask for the next chunk when this many planned actions remain (default horizon − n_obs_steps + 1 − n_action_steps: a new chunk every n_action_steps steps)." };
        var name = new Option<string>("--name") { Description = "Robot name, 1–64 of [A-Za-z0-9_.-].", DefaultValueFactory = _ => "pusht" };
        var serverKey = new Option<string?>("--curve-server-key") { Description = "The server's CurveZMQ public key (Z85), for a server bound beyond loopback." };
        var video = new Option<DirectoryInfo?>("--video") { Description = "Write every episode as an animated GIF (episode_<seed>.gif) into this folder." };
        var json = new Option<FileInfo?>("--json") { Description = "Write the per-episode report as JSON." };

        var command = new Command("robot", "Run the PushT simulator as a robot of a policy server (`diffpolicy serve`): lockstep or real time.")
        {
            connect, mode, episodes, firstSeed, maxSteps, lead, name, serverKey, video, json,
        };
        command.SetAction(parse =>
        {
            int count = parse.GetValue(episodes), limit = parse.GetValue(maxSteps);
            long seed0 = parse.GetValue(firstSeed);
            if (count < 1 || limit < 1 || seed0 < 0 || parse.GetValue(lead) is < 1)
            {
                Console.Error.WriteLine("pusht robot: --episodes, --max-steps and --lead must be at least 1, --seed-start at least 0.");
                return 2;
            }
            CurveClientKeys? curve = null;
            if (parse.GetValue(serverKey) is { } key)
            {
                try
                {
                    curve = new CurveClientKeys(NetMQCertificate.FromPublicKey(key.Trim()).PublicKey, new NetMQCertificate());
                }
                catch (Exception ex) when (ex is ArgumentException or FormatException)
                {
                    Console.Error.WriteLine($"pusht robot: --curve-server-key is not a Z85 public key (40 characters): {ex.Message}");
                    return 2;
                }
            }
            var options = new PushTRobotOptions { Name = parse.GetValue(name)!, Mode = parse.GetValue(mode), Lead = parse.GetValue(lead) };
            var endpoint = parse.GetValue(connect)!;
            try
            {
                using var robot = new PushTRobot(endpoint, options, curve);
                var welcome = robot.Connect();
                AnsiConsole.MarkupLineInterpolated($"Connected to [bold]{welcome.Server}[/] at {endpoint} as {welcome.Robot}, {options.Mode}");
                var rows = new List<RobotEpisodeRow>();
                var videoFolder = parse.GetValue(video);
                for (int i = 0; i < count; i++)
                {
                    var clip = videoFolder is null ? null : new EpisodeVideo();
                    var run = robot.RunEpisode(seed0 + i, limit, clip is null ? null : clip.Add);
                    clip?.Save(Path.Combine(videoFolder!.FullName, $"episode_{seed0 + i}.gif"));
                    var row = RobotEpisodeRow.From(run);
                    rows.Add(row);
                    AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"seed {row.Seed}: score {row.Score:F3}{(row.Success ? " (success)" : "")}, {row.Steps} steps, {row.Chunks} chunks, {row.DeadlineMisses} misses, latency p50 {row.LatencyMs.P50:F0} ms / max {row.LatencyMs.Max:F0} ms, {row.Rehellos} re-hellos"));
                }
                var report = new RobotReport(endpoint, options.Mode.ToString(), rows);
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{count} episodes: score {report.Score:F3}, success {report.SuccessRate:P0}, {report.DeadlineMisses} deadline misses, {report.Rehellos} re-hellos"));
                if (parse.GetValue(json) is { } path)
                {
                    File.WriteAllText(path.FullName, report.ToJson());
                    AnsiConsole.MarkupLineInterpolated($"Report: {path.FullName}");
                }
                return 0;
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                Console.Error.WriteLine($"pusht robot: {ex.Message}");
                return 1;
            }
            finally
            {
                NetMQConfig.Cleanup(block: false);
            }
        });
        return command;
    }
}
