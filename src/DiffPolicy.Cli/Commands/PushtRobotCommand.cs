using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using DiffPolicy.Cli.Robot;
using DiffPolicy.Data;
using DiffPolicy.Protocol.Transport;
using DiffPolicy.Sim.PushT.Robot;
using NetMQ;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy pusht robot</c>: the simulator as a robot of a running policy server.</summary>
internal sealed partial class PushtRobotCommand : VerbCommand<PushtRobotCommand.Settings>
{
    public sealed record Settings(
        string Connect = "tcp://127.0.0.1:5555", RobotMode Mode = RobotMode.Lockstep, int Episodes = 1, long SeedStart = 100_000, int MaxSteps = 300,
        int? Lead = null, string Name = "pusht", string? CurveServerKey = null, string? Video = null, string? Json = null, bool Stateless = false);

    public const int MaxEpisodes = 100_000, MaxControlSteps = 100_000, MaxLead = 1000;

    readonly Option<string> connect = new("--connect") { Description = "The policy server's endpoint.", DefaultValueFactory = _ => "tcp://127.0.0.1:5555" };
    readonly Option<RobotMode> mode = CliOptions.Choice("--mode",
        "lockstep: wait for each chunk (the papers' protocol); real_time (or realtime): 10 Hz wall-clock ticks, late actions dropped, misses counted.", RobotMode.Lockstep);
    readonly Option<int> episodes = CliOptions.Int("--episodes", "Episodes, one per consecutive seed.", 1, 1, MaxEpisodes);
    readonly Option<long> seedStart = PushTOptions.SeedStart(100_000, "First seed (also the episode number on the wire).");
    readonly Option<int> maxSteps = CliOptions.Int("--max-steps", "Control steps per episode at most (stops early on success).", 300, 1, MaxControlSteps);
    readonly Option<int?> lead = CliOptions.OptionalInt("--lead",
        "Real time: ask for the next chunk when this many planned actions remain, at most the actions a chunk carries (default horizon − n_obs_steps + 1 − n_action_steps: a new chunk every n_action_steps steps).", 1, MaxLead);
    readonly Option<string> name = new("--name") { Description = "Robot name, 1–64 of [A-Za-z0-9_.-].", DefaultValueFactory = _ => "pusht" };
    readonly Option<string?> serverKey = new("--curve-server-key") { Description = "The server's CurveZMQ public key (Z85), for a server bound beyond loopback." };
    readonly Option<DirectoryInfo?> video = CliOptions.OutputFolder("--video", "Write every episode as an animated GIF (episode_<seed>.gif) into this folder.");
    readonly Option<FileInfo?> json = CliOptions.OutputFile("--json", "Write the per-episode report as JSON.");
    readonly Option<bool> stateless = new("--stateless")
    {
        Description = "Real time: send stateless infer requests with the robot's own n_obs_steps observations (needed behind `diffpolicy broker`).",
    };

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex RobotName();

    public PushtRobotCommand()
        : base("robot", "Run the PushT simulator as a robot of a policy server (`diffpolicy serve`): lockstep or real time.")
    {
        name.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0) return;
            var value = string.Join(' ', result.Tokens.Select(t => t.Value));
            if (!RobotName().IsMatch(value)) result.AddError($"--name must be 1–64 of [A-Za-z0-9_.-], not '{value}'.");
        });
        Add(connect, mode, episodes, seedStart, maxSteps, lead, name, serverKey, video, json, stateless);
    }

    public override Settings Bind(ParseResult parse) => new(
        parse.GetValue(connect)!, parse.GetValue(mode), parse.GetValue(episodes), parse.GetValue(seedStart), parse.GetValue(maxSteps), parse.GetValue(lead),
        parse.GetValue(name)!, parse.GetValue(serverKey), parse.GetValue(video)?.FullName, parse.GetValue(json)?.FullName, parse.GetValue(stateless));

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        PushTOptions.CheckSeeds(settings.SeedStart, settings.Episodes);
        var jsonPath = OutputPaths.File("--json", settings.Json is null ? null : new FileInfo(settings.Json));
        var videos = new VideoFolder(OutputPaths.Folder("--video", settings.Video is null ? null : new DirectoryInfo(settings.Video)));
        var curve = settings.CurveServerKey is { } key ? ReadServerKey(key) : null;
        if (settings.Stateless && settings.Mode != RobotMode.RealTime)
            throw new CliInputException("--stateless", "--stateless needs --mode real_time.");
        var options = new PushTRobotOptions { Name = settings.Name, Mode = settings.Mode, Lead = settings.Lead, Stateless = settings.Stateless };
        try
        {
            using var robot = Open(settings.Connect, options, curve);
            var welcome = robot.Connect();
            if (settings.Lead is { } l && l > welcome.Policy.PredictedSteps)
                throw new CliInputException("--lead", $"--lead {l} exceeds the {welcome.Policy.PredictedSteps} actions a chunk of the server's policy carries.");
            AnsiConsole.MarkupLineInterpolated($"Connected to [bold]{welcome.Server}[/] at {settings.Connect} as {welcome.Robot}, {options.Mode}");
            var rows = new List<RobotEpisodeRow>();
            for (var i = 0; i < settings.Episodes && !cancel.IsCancellationRequested; i++)
            {
                var seed = settings.SeedStart + i;
                var row = RobotEpisodeRow.From(videos.Record($"episode_{seed}", observe => robot.RunEpisode(seed, settings.MaxSteps, observe)));
                rows.Add(row);
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"seed {row.Seed}: score {row.Score:F3}{(row.Success ? " (success)" : "")}, {row.Steps} steps, {row.Chunks} chunks, {row.DeadlineMisses} misses, latency p50 {row.LatencyMs.P50:F0} ms / max {row.LatencyMs.Max:F0} ms, {row.Rehellos} re-hellos"));
            }
            if (rows.Count == 0) throw new OperationCanceledException();
            var report = new RobotReport(settings.Connect, options.Mode.ToString(), rows);
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{rows.Count} episodes: score {report.Score:F3}, success {report.SuccessRate:P0}, {report.DeadlineMisses} deadline misses, {report.Rehellos} re-hellos"));
            if (jsonPath is not null)
            {
                AtomicFile.WriteAllText(jsonPath, report.ToJson());
                AnsiConsole.MarkupLineInterpolated($"Report: {jsonPath}");
            }
            return rows.Count < settings.Episodes ? ExitCodes.Interrupted : ExitCodes.Done;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"--connect '{settings.Connect}': {e.Message}", e);
        }
        finally
        {
            NetMQConfig.Cleanup(block: false);
        }
    }

    static PushTRobot Open(string endpoint, PushTRobotOptions options, CurveClientKeys? curve)
    {
        try
        {
            return new PushTRobot(endpoint, options, curve);
        }
        catch (Exception e) when (e is NetMQException or ArgumentException)
        {
            throw new CliInputException("--connect", $"cannot connect to '{endpoint}': {e.Message}", e);
        }
    }

    static CurveClientKeys ReadServerKey(string key)
    {
        try
        {
            return new CurveClientKeys(NetMQCertificate.FromPublicKey(key.Trim()).PublicKey, new NetMQCertificate());
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new CliInputException("--curve-server-key", $"not a Z85 public key (40 characters): {e.Message}", e);
        }
    }
}
