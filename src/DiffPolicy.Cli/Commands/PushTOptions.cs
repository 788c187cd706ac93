using System.CommandLine;
using DiffPolicy.Protocol;
using DiffPolicy.Sim.PushT.Robot;

namespace DiffPolicy.Cli.Commands;

/// <summary>Options and rules of the verbs that run PushT episodes.</summary>
internal static class PushTOptions
{
    /// <summary>PushT resets are seeded like numpy's RandomState: seeds lie in [0, 2^32).</summary>
    public const long MaxSeed = uint.MaxValue;

    public static Option<long> SeedStart(long defaultValue, string description = "First seed, then +1 per episode (PushT's standard test seeds are 100000 … 100049).") =>
        CliOptions.Long("--seed-start", description, defaultValue, 0, MaxSeed);

    /// <summary>
    /// A policy loaded here must be one the PushT robot can drive (<see cref="PushTRobot.ObserverFor"/>: keypoints, or
    /// PushTImageEnv's image + agent position; 2-D actions), as the robot checks a remote server's.
    /// </summary>
    public static void CheckPolicy(PolicyMetadata policy, string checkpoint)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (PushTRobot.ObserverFor(policy, out var why) is null) throw new CliInputException("--checkpoint", $"'{checkpoint}' {why}.");
    }

    /// <summary>The episodes' seeds, <paramref name="first"/> … first + episodes − 1, must all be PushT seeds.</summary>
    public static void CheckSeeds(long first, int episodes)
    {
        if (first < 0 || first + episodes - 1 > MaxSeed)
            throw new CliInputException("--seed-start", $"the seeds {first} … {first + episodes - 1} leave [0, {MaxSeed}] (--episodes {episodes}).");
    }
}
