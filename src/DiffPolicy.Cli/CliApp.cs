using System.CommandLine;
using System.Runtime.InteropServices;
using DiffPolicy.Cli.Commands;

namespace DiffPolicy.Cli;

/// <summary>
/// The <c>diffpolicy</c> command tree and how it is run: parse errors and failures become one line on stderr and an
/// exit code (<see cref="ExitCodes"/>, docs/cli.md); the first Ctrl-C or SIGTERM asks the running verb to stop at
/// its next safe point (a second one ends the process at once).
/// </summary>
internal static class CliApp
{
    public static RootCommand Root() => new(
        "diffpolicy — a real-time Diffusion Policy controller: ConditionalUnet1D under a ParaDiGMS-accelerated " +
        "DDPM sampler, served to robots over ZeroMQ, with a PushT simulator for evaluation.")
    {
        new InfoCommand(),
        new EvalCommand(),
        new ServeCommand(),
        new BrokerCommand(),
        new Command("pusht", "The PushT simulator: replay actions, collect expert demonstrations, render episodes, act as a robot of a policy server.")
        {
            new PushtReplayCommand(),
            new PushtCollectCommand(),
            new PushtRenderCommand(),
            new PushtRobotCommand(),
        },
        new TrainCommand(),
        new ImportCommand(),
        new Command("bench", "Benchmarks, run side by side in one process (this machine is shared and noisy).")
        {
            new BenchSamplerCommand(),
            new BenchNetworkCommand(),
            new BenchEncoderCommand(),
            new BenchSimCommand(),
            new BenchServeCommand(),
        },
        new ExportCommand(),
        new SoakCommand(),
    };

    /// <summary>Parses and runs <paramref name="args"/>; <paramref name="cancel"/> is what a signal sets.</summary>
    public static int Run(string[] args, TextWriter? error = null, CancellationToken cancel = default)
    {
        error ??= Console.Error;
        var parse = Root().Parse(args);
        if (parse.Errors.Count > 0)
        {
            var verb = string.Join(' ', parse.CommandResult.Command is RootCommand ? [] : Verb(parse.CommandResult.Command));
            var messages = parse.Errors.Select(e => e.Message).Distinct().OrderBy(m => m.StartsWith("Required command", StringComparison.Ordinal) ? 1 : 0);
            error.WriteLine(CliErrors.Line(verb, string.Join(" ", messages) + " See --help."));
            return ExitCodes.BadInput;
        }
        var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null, Error = error };
        try
        {
            return parse.InvokeAsync(configuration, cancel).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            error.WriteLine(CliErrors.Line("", e));   // unreachable in practice: each verb's action reports its own failures
            return CliErrors.ExitCode(e);
        }
    }

    /// <summary><see cref="Run"/> for the process: SIGINT and SIGTERM cancel the verb once, then end the process.</summary>
    public static int Start(string[] args)
    {
        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            if (stop.IsCancellationRequested) return;   // the second signal: default handling ends the process
            context.Cancel = true;
            Console.Error.WriteLine("diffpolicy: stopping (again to quit at once)");
            stop.Cancel();
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return Run(args, Console.Error, stop.Token);
    }

    static IEnumerable<string> Verb(Command command) =>
        command.Parents.FirstOrDefault() is Command parent and not RootCommand ? [parent.Name, command.Name] : [command.Name];
}
