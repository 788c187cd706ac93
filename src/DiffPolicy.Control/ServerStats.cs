namespace DiffPolicy.Control;

/// <summary>A snapshot of a server's counters since it started.</summary>
/// <param name="Frames">Frames received.</param>
/// <param name="Errors">Frames refused, by error code (each got an <c>error</c> reply unless it was an error itself).</param>
/// <param name="Chunks">Action chunks sent.</param>
/// <param name="Superseded">Observations replaced by a newer one of the same robot before inference started.</param>
/// <param name="StaleReplies">Replies dropped because their robot reset, changed episode or left while they were computed.</param>
/// <param name="Forgotten">Sessions closed by bye, timeout or a new hello under the same name.</param>
/// <param name="SuppressedErrorReplies">Refused frames that got no reply: their connection had used its error replies for the second.</param>
/// <param name="CancelledInferences">Inferences stopped midway because their robot reset, changed episode or left.</param>
public sealed record ServerStats(
    int Robots, long Frames, IReadOnlyDictionary<string, long> Errors, long Chunks, long Superseded, long StaleReplies, long Forgotten,
    long SuppressedErrorReplies, long CancelledInferences)
{
    public long TotalErrors => Errors.Values.Sum();
}
