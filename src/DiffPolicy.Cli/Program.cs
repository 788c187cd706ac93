using System.CommandLine;
using DiffPolicy.Cli.Commands;

var root = new RootCommand(
    "diffpolicy — a real-time Diffusion Policy controller: ConditionalUnet1D under a ParaDiGMS-accelerated " +
    "DDPM sampler, served to robots over ZeroMQ, with a PushT simulator for evaluation.")
{
    InfoCommand.Create(),
    EvalCommand.Create(),
    ServeCommand.Create(),
    PushtCommand.Create(),
    TrainCommand.Create(),
    BenchCommand.Create(),
    SoakCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
