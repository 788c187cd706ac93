using System.Text.Json;
using DiffPolicy.Data;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using TorchSharp.Modules;

namespace DiffPolicy.Policy.Training;

/// <summary>What <c>state/progress.json</c> records beside the weights: the step, the time trained, and the dataset.</summary>
/// <param name="Dataset">The dataset's SHA-256 (<see cref="RunIdentity.Fingerprint"/>); null in states saved before it was recorded.</param>
public sealed record SavedProgress(int Step, double ElapsedSeconds, int Episodes, int Steps, string? Dataset = null);

/// <summary>
/// A run's saved state, <c>state/</c>: model, EMA and optimiser weights and <c>progress.json</c>, replaced together
/// atomically. <see cref="Progress"/> reads progress.json once; the weights are read when training resumes.
/// </summary>
public sealed class RunState(string runDirectory)
{
    public const string DirectoryName = "state", ProgressFile = "progress.json";

    const string ModelFile = "model.safetensors", EmaFile = "ema.safetensors", OptimizerFile = "optimizer.bin";

    readonly Lazy<(string Directory, SavedProgress Progress)?> saved = new(() => Read(Path.Combine(runDirectory, DirectoryName)));

    /// <summary>Where the state is saved: <c>&lt;run&gt;/state</c>.</summary>
    public string Directory { get; } = Path.Combine(runDirectory, DirectoryName);

    /// <summary>The saved progress, read on first use and kept; null when nothing was saved.</summary>
    /// <exception cref="InvalidDataException">progress.json is missing or damaged, naming it.</exception>
    public SavedProgress? Progress => saved.Value?.Progress;

    public void Save(ConditionalUnet1D model, ConditionalUnet1D ema, OptimizerHelper optimizer, SavedProgress progress) =>
        AtomicDirectory.Write(Directory, staging =>
        {
            model.SaveSafetensors(Path.Combine(staging, ModelFile));
            ema.SaveSafetensors(Path.Combine(staging, EmaFile));
            optimizer.save_state_dict(Path.Combine(staging, OptimizerFile));
            File.WriteAllText(Path.Combine(staging, ProgressFile), JsonSerializer.Serialize(progress));
        });

    /// <summary>Loads the saved weights into <paramref name="model"/>, <paramref name="ema"/> and <paramref name="optimizer"/>; returns the saved step.</summary>
    public int Load(ConditionalUnet1D model, ConditionalUnet1D ema, OptimizerHelper optimizer)
    {
        var (directory, progress) = saved.Value ?? throw new InvalidOperationException($"'{Directory}' holds no saved state.");
        model.LoadStrict(Path.Combine(directory, ModelFile));
        ema.LoadStrict(Path.Combine(directory, EmaFile));
        optimizer.load_state_dict(Path.Combine(directory, OptimizerFile));
        return progress.Step;
    }

    /// <summary>The saved state's directory (or its .old copy after an interrupted swap) and its progress, or null when nothing was saved.</summary>
    static (string, SavedProgress)? Read(string stateDirectory)
    {
        string directory;
        try
        {
            directory = AtomicDirectory.Resolve(stateDirectory);
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        var path = Path.Combine(directory, ProgressFile);
        try
        {
            var progress = JsonSerializer.Deserialize<SavedProgress>(File.ReadAllText(path));
            return progress is { Step: >= 0, Episodes: >= 0, Steps: >= 0 } ? (directory, progress) : throw new JsonException("no step, or a negative one");
        }
        catch (Exception e) when (e is JsonException or FileNotFoundException)
        {
            throw new InvalidDataException(
                $"'{path}' is missing or unreadable ({e.Message.Split('.')[0]}): the run's saved state is damaged; remove '{directory}' to start over.", e);
        }
    }
}
