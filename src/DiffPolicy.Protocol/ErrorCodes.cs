namespace DiffPolicy.Protocol;

/// <summary>The <c>code</c> of an <c>error</c> message. Stable strings: clients switch on them.</summary>
public static class ErrorCodes
{
    /// <summary>Not a MessagePack map, trailing bytes, nesting too deep, or a frame count other than one.</summary>
    public const string BadFrame = "bad_frame";

    /// <summary>Larger than the server's frame limit.</summary>
    public const string TooLarge = "too_large";

    /// <summary>A field is missing, has the wrong type or an out-of-range value.</summary>
    public const string BadMessage = "bad_message";

    /// <summary>The <c>type</c> is not one the receiver knows.</summary>
    public const string UnknownType = "unknown_type";

    /// <summary>The hello asked for a protocol version the server does not speak.</summary>
    public const string BadVersion = "bad_version";

    /// <summary>The connection has no session: send hello (again, e.g. after a server restart).</summary>
    public const string NoSession = "no_session";

    /// <summary>An observation array is missing, unknown, or has the wrong length for the policy's metadata.</summary>
    public const string BadShape = "bad_shape";

    /// <summary>An observation contains NaN or infinity.</summary>
    public const string NonFinite = "non_finite";

    /// <summary>The step is not after the last step of the same episode.</summary>
    public const string OutOfOrder = "out_of_order";

    /// <summary>The server already serves its maximum number of robots.</summary>
    public const string ServerFull = "server_full";

    /// <summary>
    /// The server cannot answer this request before its deadline (the robot's <c>deadline_ms</c>, else the time the
    /// real-time robot runs out of planned actions): it was dropped without inference. Ask again later or elsewhere.
    /// </summary>
    public const string Overloaded = "overloaded";

    /// <summary>The policy failed on this observation; the session stays open.</summary>
    public const string PolicyFailed = "policy_failed";
}
