using NetMQ;

namespace DiffPolicy.Protocol.Transport;

/// <summary>What a robot needs to reach a CurveZMQ server: the server's public key and the robot's own key pair.</summary>
public sealed record CurveClientKeys(byte[] ServerPublicKey, NetMQCertificate ClientCertificate);
