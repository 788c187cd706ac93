using System.CommandLine;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy pusht …</c>: the PushT simulator's verbs.</summary>
internal static class PushtCommand
{
    public static Command Create() => new("pusht", "The PushT simulator: replay actions, collect expert demonstrations, render episodes, act as a robot of a policy server.")
    {
        PushtReplayCommand.Create(),
        PushtCollectCommand.Create(),
        PushtRenderCommand.Create(),
        PushtRobotCommand.Create(),
    };
}
