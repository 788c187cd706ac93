using System.CommandLine;
using DiffPolicy.Cli;
using DiffPolicy.Cli.Commands;

NativeHeap.LimitArenas();

var root = new RootCommand(
    "diffpolicy — a real-time Diffusion Policy controller: ConditionalUnet1D under a ParaDiGMS-accelerated " +
    "DDPM sampler, served to robots over ZeroMQ, with a PushT simulator for evaluation.")
{
    InfoCommand.Create(),
    EvalCommand.Create(),
    ServeCommand.Create(),
    PushtCommand.Create(),
    TrainCommand.Create(),
    ImportCommand.Create(),
    BenchCommand.Create(),
    ExportCommand.Create(),
    SoakCommand.Create(),
};
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException or ArgumentException or UnauthorizedAccessException)
{
    // Bad input (missing or malformed files, wrong checkpoint keys, inconsistent settings): the message says what and where.
    Console.Error.WriteLine($"diffpolicy: {e.Message}");
    return 2;
}
