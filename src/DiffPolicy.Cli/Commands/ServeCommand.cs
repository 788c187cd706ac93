using System.CommandLine;
using System.Globalization;
using DiffPolicy.Control;
using DiffPolicy.Protocol.Transport;
using NetMQ;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy serve</c>: the policy server for robots (docs/protocol.md), until Ctrl-C or SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var bind = new Option<string>("--bind")
        {
            Description = "ZeroMQ endpoint to bind (port * picks a free one). Anything but loopback requires --curve-secret-key.",
            DefaultValueFactory = _ => "tcp://127.0.0.1:5555",
        };
        var curve = new Option<string?>("--curve-secret-key")
        {
            Description = "CurveZMQ server secret key: a file holding it, or the key itself (Z85, 40 characters). Clients then need the printed public key.",
        };
        var policyOptions = new PolicyOptions();
        var command = new Command("serve", "Serve a policy checkpoint to robots over ZeroMQ (protocol: docs/protocol.md) until Ctrl-C or SIGTERM.") { bind, curve };
        foreach (var option in policyOptions.All) command.Options.Add(option);

        command.SetAction(parse =>
        {
            NetMQCertificate? certificate = null;
            if (parse.GetValue(curve) is { } secret)
            {
                try
                {
                    certificate = NetMQCertificate.CreateFromSecretKey((File.Exists(secret) ? File.ReadAllText(secret) : secret).Trim());
                }
                catch (Exception ex) when (ex is ArgumentException or FormatException or IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"serve: --curve-secret-key is neither a readable file nor a Z85 secret key (40 characters): {ex.Message}");
                    return 2;
                }
            }
            string address = parse.GetValue(bind)!;
            if (certificate is null && !Endpoints.IsLoopback(address))
            {
                Console.Error.WriteLine($"serve: binding '{address}' exposes the server beyond this machine: give --curve-secret-key, or bind a loopback address.");
                return 2;
            }
            if (policyOptions.Directory(parse, "serve") is not { } directory) return 2;
            var (loaded, description) = policyOptions.Load(parse, directory);
            using var diffusion = loaded;
            using var policy = new DiffusionChunkPolicy(diffusion);
            PolicyServer server;
            try
            {
                server = new PolicyServer(policy, new PolicyServerOptions { Bind = address, CurveServer = certificate });
            }
            catch (Exception ex) when (ex is NetMQException or ArgumentException)
            {
                Console.Error.WriteLine($"serve: cannot bind '{address}': {ex.Message}");
                NetMQConfig.Cleanup(block: false);
                return 2;
            }
            var m = policy.Metadata;
            Console.WriteLine($"serving {directory} on {server.Endpoint}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"policy: obs {string.Join(", ", m.ObsKeys.Select(k => $"{k.Name} [{string.Join(", ", k.Shape)}]"))}, n_obs_steps {m.NObsSteps}, horizon {m.Horizon}, n_action_steps {m.NActionSteps}, action_dim {m.ActionDim}, control_hz {m.ControlHz}"));
            Console.WriteLine($"sampler: {description}");
            if (certificate is not null) Console.WriteLine($"curve public key: {certificate.PublicKeyZ85}");
            AnsiConsole.MarkupLine("[grey]Ctrl-C or SIGTERM stops the server.[/]");
            PolicyServerHost.RunUntilSignalled(server);
            var stats = server.Stats;
            Console.WriteLine($"stopped: {stats.Chunks} chunks served");
            return 0;
        });
        return command;
    }
}
