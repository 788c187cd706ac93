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
    /// A policy loaded here must be one the PushT robot can drive: one observation key of
    /// <see cref="PushTRobot.KeypointValues"/> values and 2-D actions (the robot checks a remote server's the same way).
    /// </summary>
    public static void CheckPolicy(PolicyMetadata policy, string checkpoint)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.ObsKeys.Count != 1 || policy.ObsKeys[0].Length != PushTRobot.KeypointValues || policy.ActionDim != 2)
        {
            var observes = string.Join(", ", policy.ObsKeys.Select(k => $"{k.Name} [{string.Join("×", k.Shape)}]"));
            throw new CliInputException("--checkpoint",
                $"'{checkpoint}' observes {observes} and acts in {policy.ActionDim} dimensions; PushT observes {PushTRobot.KeypointValues} keypoint values and acts in 2.");
        }
    }

    /// <summary>The episodes' seeds, <paramref name="first"/> … first + episodes − 1, must all be PushT seeds.</summary>
    public static void CheckSeeds(long first, int episodes)
    {
        if (first < 0 || first + episodes - 1 > MaxSeed)
            throw new CliInputException("--seed-start", $"the seeds {first} … {first + episodes - 1} leave [0, {MaxSeed}] (--episodes {episodes}).");
    }
}
