namespace DiffPolicy.Protocol;

/// <summary>A frame that cannot be accepted; <see cref="Code"/> is one of <see cref="ErrorCodes"/>.</summary>
public sealed class ProtocolException : Exception
{
    public ProtocolException(string code, string message, ulong? seq = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Seq = seq;
    }

    public string Code { get; }

    /// <summary>The <c>seq</c> of the refused message, when it could be read.</summary>
    public ulong? Seq { get; }

    public ProtocolError ToMessage() => new(Code, Message, Seq);
}
