using System.CommandLine;
using DiffPolicy.Control;
using DiffPolicy.Protocol.Transport;
using Microsoft.Extensions.Logging;
using NetMQ;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// <c>diffpolicy broker</c>: one address for robots, any number of <c>serve --worker-of</c> processes behind it
/// (<see cref="FleetBroker"/>: NetMQ's proxy between a ROUTER and a DEALER), until Ctrl-C or SIGTERM.
/// </summary>
internal sealed class BrokerCommand : VerbCommand<BrokerCommand.Settings>
{
    public sealed record Settings(
        string Frontend = "tcp://127.0.0.1:5555", string Backend = "tcp://127.0.0.1:5556", string? CurveSecretKey = null, LogLevel LogLevel = LogLevel.Information);

    readonly Option<string> frontend = new("--frontend")
    {
        Description = "Endpoint robots connect to (port * picks a free one). Beyond loopback it needs --curve-secret-key.",
        DefaultValueFactory = _ => "tcp://127.0.0.1:5555",
    };
    readonly Option<string> backend = new("--backend")
    {
        Description = "Endpoint `serve --worker-of` processes connect to (port * picks a free one). Beyond loopback it needs --curve-secret-key.",
        DefaultValueFactory = _ => "tcp://127.0.0.1:5556",
    };
    readonly Option<string?> curve = new("--curve-secret-key")
    {
        Description = "The broker's CurveZMQ secret key (a file holding it, or the Z85 key), used on both endpoints; robots and workers then need the printed public key.",
    };
    readonly Option<LogLevel> logLevel = ServerLogging.LevelOption();

    public BrokerCommand()
        : base("broker", "Spread robots' stateless requests over policy servers (`serve --worker-of`) behind one address, with ZeroMQ's proxy (docs/fleet.md).")
    {
        Add(frontend, backend, curve, logLevel);
    }

    public override Settings Bind(ParseResult parse) => new(parse.GetValue(frontend)!, parse.GetValue(backend)!, parse.GetValue(curve), parse.GetValue(logLevel));

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var certificate = settings.CurveSecretKey is { } secret ? FleetOptions.SecretKey(secret) : null;
        foreach (var (name, address) in new[] { ("--frontend", settings.Frontend), ("--backend", settings.Backend) })
        {
            if (certificate is null && !Endpoints.IsLoopback(address))
                throw new CliInputException(name, $"'{address}' is reachable beyond this machine: give --curve-secret-key, or bind a loopback address.");
        }
        using var logs = ServerLogging.Create(settings.LogLevel);
        FleetBroker broker;
        try
        {
            broker = new FleetBroker(settings.Frontend, settings.Backend, certificate, logger: logs.CreateLogger("DiffPolicy.Broker"));
        }
        catch (Exception e) when (e is NetMQException or ArgumentException)
        {
            NetMQConfig.Cleanup(block: false);
            throw new CliInputException("--frontend", $"cannot bind '{settings.Frontend}' and '{settings.Backend}': {e.Message}", e);
        }
        Console.WriteLine($"broker: robots connect to {broker.Frontend}, workers to {broker.Backend}");
        if (certificate is not null) Console.WriteLine($"curve public key: {certificate.PublicKeyZ85}");
        AnsiConsole.MarkupLine("[grey]Ctrl-C or SIGTERM stops the broker.[/]");
        try
        {
            broker.Run(cancel);
        }
        finally
        {
            NetMQConfig.Cleanup(block: false);
        }
        Console.WriteLine("broker stopped");
        return ExitCodes.Done;
    }
}
