namespace DiffPolicy.Sim.PushT.Robot;

/// <summary>How a <see cref="PushTRobot"/> behaves.</summary>
public sealed record PushTRobotOptions
{
    /// <summary>The robot's name on the server: 1–64 of [A-Za-z0-9_.-].</summary>
    public string Name { get; init; } = "pusht";

    public RobotMode Mode { get; init; } = RobotMode.Lockstep;

    /// <summary>Real time: ask for the next chunk when this many planned actions remain (default: n_action_steps / 2).</summary>
    public int? Lead { get; init; }

    /// <summary>Real time: ask again when a requested chunk has not come after this long (lost or superseded).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The server is given up on (an exception) after this long without any message from it.</summary>
    public TimeSpan ServerTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
