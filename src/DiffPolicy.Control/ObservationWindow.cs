using DiffPolicy.Protocol;

namespace DiffPolicy.Control;

/// <summary>
/// The last <see cref="Steps"/> observations of one robot, oldest first, ending at <see cref="Step"/>. Steps before the
/// episode's first observation repeat it, and a step the robot skipped repeats the observation before it, as
/// DiffusionPolicy pads its observation history.
/// </summary>
/// <param name="Data">Per observation key, <see cref="Steps"/> × the key's length values, row-major, oldest step first.</param>
public sealed record ObservationWindow(string Robot, long Episode, long Step, int Steps, IReadOnlyDictionary<string, float[]> Data)
{
    /// <summary>What the robot still has planned from <see cref="Step"/> on, when it sent it (real-time chunking).</summary>
    public PlanPrior? Prior { get; init; }

    /// <summary>Per rgb key, <see cref="Steps"/> camera frames of height × width × 3 bytes as sent, oldest first.</summary>
    public IReadOnlyDictionary<string, byte[]> Frames { get; init; } = new Dictionary<string, byte[]>();

    /// <summary>
    /// Sent whole by the robot (an <c>infer</c> request) rather than kept by the server: no session, no per-robot state.
    /// A policy keys its noise on (episode, step) alone for such windows, so any server gives the same answer.
    /// </summary>
    public bool Stateless { get; init; }

    /// <summary>The values of <paramref name="key"/> at window position <paramref name="index"/> (0 = oldest).</summary>
    public ReadOnlySpan<float> At(string key, int index)
    {
        var values = Data[key];
        var length = values.Length / Steps;
        return values.AsSpan(index * length, length);
    }
}
