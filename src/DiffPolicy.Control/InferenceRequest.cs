namespace DiffPolicy.Control;

/// <summary>
/// A window waiting for the policy, with where its answer goes. <paramref name="Key"/> names the waiting slot: the robot's
/// name for session requests, the connection for stateless ones. <paramref name="Session"/> is null for stateless
/// requests, whose answers are always sent.
/// </summary>
/// <param name="Due"><see cref="System.Diagnostics.Stopwatch"/> timestamp the answer is due: arrival + <c>deadline_ms</c>, else
/// arrival + the real-time recipe's lead (the robot runs out of planned actions). The queue serves earliest due first.</param>
/// <param name="Anytime">The robot sent <c>deadline_ms</c>: the policy stops at <paramref name="Due"/> with its best answer.</param>
internal sealed record InferenceRequest(
    string Key, byte[] Identity, RobotSession? Session, int Epoch, ulong Seq, double ObsTime, ObservationWindow Window, long ArrivedAt, long Due, bool Anytime);

/// <summary>What a reply is, for the server's counters.</summary>
internal enum ReplyKind
{
    Chunk,
    Failed,
    Overloaded,
}

/// <summary>A reply computed on the inference thread, to be sent by the socket thread if the session still wants it.</summary>
internal sealed record InferenceReply(byte[] Identity, RobotSession? Session, int Epoch, byte[] Frame, ReplyKind Kind);
