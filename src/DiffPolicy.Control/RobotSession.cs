using DiffPolicy.Protocol;

namespace DiffPolicy.Control;

/// <summary>One robot's connection: owned by the socket thread, referenced by its queued requests.</summary>
internal sealed class RobotSession(string identityKey, byte[] identity, string name, PolicyMetadata metadata, long now)
{
    public string IdentityKey { get; } = identityKey;

    public byte[] Identity { get; } = identity;

    public string Name { get; } = name;

    public ObservationHistory History { get; } = new(metadata);

    public long LastSeen { get; set; } = now;

    /// <summary>Bumped by every reset and new episode; replies computed under an older epoch are dropped.</summary>
    public int Epoch { get; set; }

    /// <summary>Whether an observation of this session went to the policy, which may then hold state for the robot.</summary>
    public bool ReachedPolicy { get; set; }
}
