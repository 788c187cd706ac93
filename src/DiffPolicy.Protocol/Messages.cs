namespace DiffPolicy.Protocol;

/// <summary>One wire message: a MessagePack map whose <c>type</c> key names it. See docs/protocol.md.</summary>
public abstract record Message;

/// <summary>Robot → server: open a session. <paramref name="Robot"/> names the robot; a new hello under a name in use replaces that session.</summary>
public sealed record Hello(int Protocol, string Robot) : Message;

/// <summary>Server → robot: the session is open; what the policy expects and produces.</summary>
public sealed record Welcome(int Protocol, string Robot, string Server, PolicyMetadata Policy, double RobotTimeoutSeconds, int MaxFrameBytes) : Message;

/// <summary>
/// Robot → server: the observation taken at <paramref name="Step"/> of <paramref name="Episode"/>.
/// Each array is the key's values in row-major order, finite float32; camera frames are in <see cref="Frames"/>. With
/// <paramref name="Infer"/> false it only extends the history; with true the server answers with an action chunk starting
/// at <paramref name="Step"/>, steered to agree with <paramref name="Prior"/> when the robot sends one (optional;
/// docs/protocol.md §4.1).
/// </summary>
public sealed record Observation(ulong Seq, long Episode, long Step, double Time, bool Infer, IReadOnlyDictionary<string, float[]> Data, PlanPrior? Prior = null) : Message
{
    /// <summary>Camera frames of the rgb keys: height × width × 3 bytes each, row-major, RGB (docs/protocol.md).</summary>
    public IReadOnlyDictionary<string, byte[]> Frames { get; init; } = new Dictionary<string, byte[]>();

    /// <summary>Optional: answer within this many milliseconds of arrival (anytime sampling; see docs/protocol.md §4a).</summary>
    public double? DeadlineMs { get; init; }
}

/// <summary>
/// Robot → server, stateless: a chunk for <paramref name="Step"/> of <paramref name="Episode"/> from the robot's own last
/// n_obs_steps observations (per key n_obs_steps × the key's length values, oldest first). Needs no session or history,
/// so any server behind a broker can answer it.
/// </summary>
public sealed record InferRequest(ulong Seq, long Episode, long Step, double Time, IReadOnlyDictionary<string, float[]> Data) : Message
{
    /// <summary>Per rgb key, n_obs_steps camera frames of height × width × 3 bytes, concatenated oldest first (docs/protocol.md).</summary>
    public IReadOnlyDictionary<string, byte[]> Frames { get; init; } = new Dictionary<string, byte[]>();

    /// <summary>Optional: answer within this many milliseconds of arrival (anytime sampling).</summary>
    public double? DeadlineMs { get; init; }
}

/// <summary>
/// What the robot still has planned when it asks for a chunk: <paramref name="Actions"/> (rows of action_dim values) for
/// the observation's step and the steps after it; the first <paramref name="Frozen"/> rows will run before the chunk can
/// be used. <paramref name="Weights"/> (one per row, in [0, 1]) says how strongly the chunk should agree with each row;
/// null lets the server choose (1 for the frozen rows, decaying over the rest).
/// </summary>
public sealed record PlanPrior(float[] Actions, int Frozen, float[]? Weights = null);

/// <summary>
/// Server → robot: <paramref name="Count"/> actions of <paramref name="ActionDim"/> values (row-major); action i is for
/// step <paramref name="StartStep"/> + i, which equals the observation's step.
/// </summary>
public sealed record ActionChunk(
    ulong ObsSeq, double ObsTime, long Episode, long StartStep, double Dt, int Count, int ActionDim, float[] Values, ServerTiming Timing) : Message
{
    /// <summary>How far the sampler converged; absent from servers or policies that do not say.</summary>
    public ChunkCertificate? Certificate { get; init; }
}

/// <summary>
/// What a chunk's sampling is worth: steps 0 … <paramref name="ConvergedSteps"/>−1 of <paramref name="Steps"/> denoising
/// steps converged to within <paramref name="Tolerance"/> (ParaDiGMS τ); <paramref name="MaxError"/> is the largest error
/// of an accepted step when all converged, else the largest among those not yet accepted (same units as τ).
/// </summary>
public sealed record ChunkCertificate(int ConvergedSteps, int Steps, double MaxError, double Tolerance)
{
    public bool Converged => ConvergedSteps >= Steps;
}

/// <summary>Where the server spent the time behind one chunk.</summary>
/// <param name="QueueMs">From the observation's arrival to the start of inference.</param>
/// <param name="InferMs">Inference alone.</param>
/// <param name="Iterations">Sampler iterations (Picard sweeps for ParaDiGMS, steps for a sequential sampler).</param>
/// <param name="Evaluations">Network evaluations (one per denoising step evaluated, batched or not).</param>
public sealed record ServerTiming(double QueueMs, double InferMs, int Iterations, int Evaluations);

/// <summary>Robot → server: forget this robot's observation history and any pending request.</summary>
public sealed record Reset : Message;

/// <summary>Robot → server heartbeat; answered even before hello.</summary>
public sealed record Ping(ulong Seq, double Time) : Message;

/// <summary>Server → robot: echoes the ping; <paramref name="Session"/> tells whether this connection has a session (false after a server restart).</summary>
public sealed record Pong(ulong Seq, double Time, bool Session) : Message;

/// <summary>Server → robot: the message with <paramref name="Seq"/> (when it carried one) was refused. <paramref name="Code"/> is one of <see cref="ErrorCodes"/>.</summary>
public sealed record ProtocolError(string Code, string Text, ulong? Seq) : Message;

/// <summary>Robot → server: the robot leaves; the session is closed without reply.</summary>
public sealed record Bye : Message;
