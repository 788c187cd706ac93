using DiffPolicy.Data;

namespace DiffPolicy.Policy.Training;

/// <summary>
/// What a training run is: its configuration (<c>config.json</c>) and its demonstrations (by SHA-256 fingerprint), with
/// the rules for continuing a run directory: the same data, the same configuration except training.steps and the
/// sampler, and no fewer steps than already reached. Also whether the demonstrations can train the configuration.
/// </summary>
public sealed class RunIdentity(PolicyConfig config, ReplayBuffer data)
{
    public const string ConfigFile = "config.json";

    readonly Lazy<string> fingerprint = new(() => data.Fingerprint(config.ObsKey, "action"));

    /// <summary>The SHA-256 of the demonstrations (episode_ends, obs_key, action).</summary>
    public string Fingerprint => fingerprint.Value;

    /// <summary>The progress record of this run at <paramref name="step"/>, naming its data.</summary>
    public SavedProgress Progress(int step, double elapsedSeconds) => new(step, elapsedSeconds, data.Episodes, data.Steps, Fingerprint);

    /// <summary>DiffusionPolicy's get_val_mask: a seeded choice of round(val_ratio × n) episodes (at least 1 when the ratio is positive), never all of them.</summary>
    public (HashSet<int> Train, HashSet<int> Val) SplitEpisodes()
    {
        var valRatio = config.Training.ValRatio;
        var nVal = valRatio <= 0 ? 0 : Math.Min(Math.Max(1, (int)Math.Round(data.Episodes * valRatio)), data.Episodes - 1);
        var order = Enumerable.Range(0, data.Episodes).ToArray();
        new Random(config.Training.Seed).Shuffle(order);
        return (order.Skip(nVal).ToHashSet(), order.Take(nVal).ToHashSet());
    }

    /// <summary>
    /// Throws <see cref="InvalidDataException"/> (naming the dataset and the key) when the dataset cannot train this
    /// configuration: a missing obs_key or 'action', other widths than obs_dim and action_dim, no training window.
    /// </summary>
    public void CheckData()
    {
        int obsWidth = data.Width(config.ObsKey), actionWidth = data.Width("action");
        if (obsWidth != config.ObsDim || actionWidth != config.ActionDim)
        {
            throw new InvalidDataException(
                $"{data.Source}'s '{config.ObsKey}' has {obsWidth} values per step and 'action' {actionWidth}; the config says obs_dim {config.ObsDim}, action_dim {config.ActionDim}.");
        }

        if (new SequenceSampler(data, config.Horizon, config.NObsSteps - 1, config.NActionSteps - 1, SplitEpisodes().Train).Count == 0)
            throw new InvalidDataException($"{data.Source} yields no training windows ({data.Episodes} episodes, {data.Steps} steps).");
    }

    /// <summary>
    /// Whether this run may continue the one saved in <paramref name="directory"/> at <paramref name="saved"/>: the same
    /// dataset (by fingerprint, or by size for states saved before fingerprints), a step not beyond training.steps, and
    /// the same configuration (training.steps and the sampler may change). Throws <see cref="InvalidDataException"/>
    /// naming the directory otherwise. Writes nothing.
    /// </summary>
    public void CheckContinues(string directory, SavedProgress saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        var sameData = saved.Dataset is { } recorded
            ? recorded == Fingerprint
            : saved.Episodes == data.Episodes && saved.Steps == data.Steps;
        if (!sameData)
        {
            throw new InvalidDataException(
                $"'{directory}' was trained on other data ({saved.Episodes} episodes / {saved.Steps} steps{(saved.Dataset is null ? "" : $", fingerprint {saved.Dataset[..12]}")}) " +
                $"than {data.Source} ({data.Episodes} / {data.Steps}, {Fingerprint[..12]}); use a new --out directory or the run's own data.");
        }

        if (config.Training.Steps < saved.Step)
        {
            throw new InvalidDataException(
                $"training.steps is {config.Training.Steps} (--steps) but '{directory}' has already reached step {saved.Step}; give at least {saved.Step} steps or a new --out directory.");
        }

        var path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path)) return;
        // Compared as read by this version, so settings added since (at their defaults) do not count as changes.
        // The sampler only matters at inference and the step count only says where training stops: a run
        // may be extended (the cosine decay then runs over the new total from the resume point) or resumed
        // with other sampler settings, and its config records them.
        PolicyConfig stored;
        try
        {
            stored = PolicyConfig.FromJson(File.ReadAllText(path));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}': {e.Message}", e);
        }
        var comparable = stored with { Sampler = config.Sampler, Training = stored.Training with { Steps = config.Training.Steps } };
        if (comparable.ToJson() != config.ToJson())
        {
            throw new InvalidDataException(
                $"'{directory}' holds a run with a different configuration ({path}); use a new --out directory or the same config " +
                "(only training.steps and the sampler may change).");
        }
    }

    /// <summary>Writes <c>config.json</c> in <paramref name="directory"/> (atomically, and only when it differs).</summary>
    public void WriteConfig(string directory)
    {
        var path = Path.Combine(directory, ConfigFile);
        var json = config.ToJson();
        if (File.Exists(path) && File.ReadAllText(path) == json) return;
        AtomicFile.WriteAllText(path, json);
    }
}
