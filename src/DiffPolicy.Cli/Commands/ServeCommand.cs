using System.CommandLine;
using System.Globalization;
using DiffPolicy.Cli.Serving;
using DiffPolicy.Control;
using DiffPolicy.Protocol.Transport;
using Microsoft.Extensions.Logging;
using NetMQ;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy serve</c>: the policy server for robots (docs/protocol.md), until Ctrl-C or SIGTERM.</summary>
internal sealed class ServeCommand : VerbCommand<ServeCommand.Settings>
{
    public sealed record Settings(
        PolicySettings Policy, string Bind = "tcp://127.0.0.1:5555", string? CurveSecretKey = null, string? WorkerOf = null, string? CurveServerKey = null,
        int MaxBatch = FleetOptions.DefaultMaxBatch, LogLevel LogLevel = LogLevel.Information);

    readonly Option<string> bind = new("--bind")
    {
        Description = "ZeroMQ endpoint to bind (port * picks a free one). Anything but loopback requires --curve-secret-key.",
        DefaultValueFactory = _ => "tcp://127.0.0.1:5555",
    };
    readonly Option<string?> curve = new("--curve-secret-key")
    {
        Description = "CurveZMQ server secret key: a file holding it, or the key itself (Z85, 40 characters). Clients then need the printed public key.",
    };
    readonly Option<string?> workerOf = new("--worker-of")
    {
        Description = "Serve as a worker of `diffpolicy broker`: connect to its backend endpoint instead of binding (robots then send stateless infer requests; docs/fleet.md).",
    };
    readonly Option<string?> serverKey = new("--curve-server-key") { Description = "With --worker-of beyond loopback: the broker's CurveZMQ public key (Z85)." };
    readonly Option<int> maxBatch = FleetOptions.MaxBatch();
    readonly Option<LogLevel> logLevel = ServerLogging.LevelOption();
    readonly PolicyOptions policy = new();

    public ServeCommand()
        : base("serve", "Serve a policy checkpoint to robots over ZeroMQ (protocol: docs/protocol.md) until Ctrl-C or SIGTERM.")
    {
        Add(bind, curve, workerOf, serverKey, maxBatch, logLevel);
        Add([.. policy.All]);
    }

    public override Settings Bind(ParseResult parse) => new(
        policy.Bind(parse), parse.GetValue(bind)!, parse.GetValue(curve), parse.GetValue(workerOf), parse.GetValue(serverKey), parse.GetValue(maxBatch), parse.GetValue(logLevel));

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var certificate = settings.CurveSecretKey is { } secret ? ReadSecretKey(secret) : null;
        if (settings.WorkerOf is null && certificate is null && !Endpoints.IsLoopback(settings.Bind))
            throw new CliInputException("--bind", $"'{settings.Bind}' exposes the server beyond this machine: give --curve-secret-key, or bind a loopback address.");
        var brokerKeys = settings.CurveServerKey is { } key ? FleetOptions.ClientKeys(key) : null;
        if (settings.WorkerOf is { } broker && brokerKeys is null && !Endpoints.IsLoopback(broker))
            throw new CliInputException("--worker-of", $"'{broker}' leaves this machine: give the broker's public key with --curve-server-key.");
        var (loaded, description) = settings.Policy.Load();
        using var diffusion = loaded;
        using var chunkPolicy = new DiffusionChunkPolicy(diffusion);
        using var logs = ServerLogging.Create(settings.LogLevel);
        PolicyServer server;
        try
        {
            server = new PolicyServer(chunkPolicy, new PolicyServerOptions
            {
                Bind = settings.Bind,
                CurveServer = certificate,
                WorkerOf = settings.WorkerOf,
                CurveClient = brokerKeys,
                MaxBatch = settings.MaxBatch,
                Logger = logs.CreateLogger("DiffPolicy.Server"),
            });
        }
        catch (Exception e) when (e is NetMQException or ArgumentException)
        {
            NetMQConfig.Cleanup(block: false);
            throw settings.WorkerOf is null
                ? new CliInputException("--bind", $"cannot bind '{settings.Bind}': {e.Message}", e)
                : new CliInputException("--worker-of", $"cannot connect to '{settings.WorkerOf}': {e.Message}", e);
        }
        var m = chunkPolicy.Metadata;
        Console.WriteLine(settings.WorkerOf is null
            ? $"serving {Path.GetFullPath(settings.Policy.Checkpoint)} on {server.Endpoint}"
            : $"serving {Path.GetFullPath(settings.Policy.Checkpoint)} as a worker of {server.Endpoint}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"policy: obs {string.Join(", ", m.ObsKeys.Select(k => $"{k.Name} {k.ShapeText}"))}, n_obs_steps {m.NObsSteps}, horizon {m.Horizon}, n_action_steps {m.NActionSteps}, action_dim {m.ActionDim}, control_hz {m.ControlHz}"));
        Console.WriteLine($"sampler: {description}");
        if (certificate is not null) Console.WriteLine($"curve public key: {certificate.PublicKeyZ85}");
        AnsiConsole.MarkupLine("[grey]Ctrl-C or SIGTERM stops the server.[/]");
        PolicyServerHost.Run(server, cancel);
        Console.WriteLine($"stopped: {server.Stats.Chunks} chunks served");
        return ExitCodes.Done;
    }

    static NetMQCertificate ReadSecretKey(string secret)
    {
        try
        {
            return NetMQCertificate.CreateFromSecretKey((File.Exists(secret) ? File.ReadAllText(secret) : secret).Trim());
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException or UnauthorizedAccessException)
        {
            throw new CliInputException("--curve-secret-key", $"neither a readable file nor a Z85 secret key (40 characters): {e.Message}", e);
        }
    }
}
