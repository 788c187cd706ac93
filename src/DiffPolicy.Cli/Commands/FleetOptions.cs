using System.CommandLine;
using DiffPolicy.Control;
using DiffPolicy.Protocol;
using DiffPolicy.Protocol.Transport;
using NetMQ;

namespace DiffPolicy.Cli.Commands;

/// <summary>Options of the verbs that serve several robots (serve, broker, soak, bench serve), defined once.</summary>
internal static class FleetOptions
{
    public const int DefaultMaxBatch = PolicyServerOptions.DefaultMaxBatch, MaxBatchLimit = 64, MaxRobots = 64;

    public static Option<int> MaxBatch() => CliOptions.Int("--max-batch",
        "Requests of different robots sampled together at most (one ParaDiGMS run with per-sample windows); further ones wait, earliest due first, or get overloaded.",
        DefaultMaxBatch, 1, MaxBatchLimit);

    public static Option<int> Robots(string name, string description, int defaultValue) => CliOptions.Int(name, description, defaultValue, 1, MaxRobots);

    public static Option<double?> DeadlineMs() => CliOptions.OptionalDouble("--deadline-ms",
        "deadline_ms the robots send with each request: the server answers by then with what has converged (anytime; docs/protocol.md §4a).",
        1, MessageCodec.MaxDeadlineMs);

    /// <summary>Client keys for a CurveZMQ server whose public key is <paramref name="publicKey"/> (Z85).</summary>
    public static CurveClientKeys ClientKeys(string publicKey)
    {
        try
        {
            return new CurveClientKeys(NetMQCertificate.FromPublicKey(publicKey.Trim()).PublicKey, new NetMQCertificate());
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new CliInputException("--curve-server-key", $"not a Z85 public key (40 characters): {e.Message}", e);
        }
    }

    /// <summary>A CurveZMQ key pair from a file holding the secret key, or from the key itself (Z85).</summary>
    public static NetMQCertificate SecretKey(string secret)
    {
        try
        {
            return NetMQCertificate.CreateFromSecretKey((File.Exists(secret) ? File.ReadAllText(secret) : secret).Trim());
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException or UnauthorizedAccessException)
        {
            throw new CliInputException("--curve-secret-key", $"neither a readable file nor a Z85 secret key (40 characters): {e.Message}", e);
        }
    }
}
