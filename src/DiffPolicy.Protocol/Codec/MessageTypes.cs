namespace DiffPolicy.Protocol.Codec;

/// <summary>The <c>type</c> strings on the wire.</summary>
internal static class MessageTypes
{
    public const string Hello = "hello";
    public const string Welcome = "welcome";
    public const string Obs = "obs";
    public const string Infer = "infer";
    public const string Actions = "actions";
    public const string Reset = "reset";
    public const string Ping = "ping";
    public const string Pong = "pong";
    public const string Error = "error";
    public const string Bye = "bye";
}
