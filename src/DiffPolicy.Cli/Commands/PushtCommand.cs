using System.CommandLine;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy pusht …</c>: the PushT simulator's verbs.</summary>
internal static class PushtCommand
{
    public static Command Create() => new("pusht", "The PushT simulator: replay actions, collect expert demonstrations, render episodes.")
    {
        PushtReplayCommand.Create(),
        PushtCollectCommand.Create(),
        PushtRenderCommand.Create(),
    };
}
