using System.CommandLine;

namespace DiffPolicy.Cli.Commands;

/// <summary>Options and rules of the verbs that run PushT episodes.</summary>
internal static class PushTOptions
{
    /// <summary>PushT resets are seeded like numpy's RandomState: seeds lie in [0, 2^32).</summary>
    public const long MaxSeed = uint.MaxValue;

    public static Option<long> SeedStart(long defaultValue, string description = "First seed, then +1 per episode (PushT's standard test seeds are 100000 … 100049).") =>
        CliOptions.Long("--seed-start", description, defaultValue, 0, MaxSeed);

    /// <summary>The episodes' seeds, <paramref name="first"/> … first + episodes − 1, must all be PushT seeds.</summary>
    public static void CheckSeeds(long first, int episodes)
    {
        if (first < 0 || first + episodes - 1 > MaxSeed)
            throw new CliInputException("--seed-start", $"the seeds {first} … {first + episodes - 1} leave [0, {MaxSeed}] (--episodes {episodes}).");
    }
}
