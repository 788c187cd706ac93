using System.CommandLine;
using System.Globalization;
using DiffPolicy.Data;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Training;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy train</c>: train a policy on demonstrations in a resumable run directory.</summary>
internal sealed class TrainCommand : VerbCommand<TrainCommand.Settings>
{
    public sealed record Settings(string Config, string Data, string Out, int? Steps = null, string Device = "auto", int Threads = 0);

    public const int MaxSteps = 100_000_000;

    readonly Option<FileInfo> config = CliOptions.InputFile("--config", "Policy configuration (JSON), e.g. configs/pusht_keypoints.json.");
    readonly Option<FileInfo> data = CliOptions.InputFile("--data", "Demonstrations (.npz with the config's obs_key, 'action' and 'episode_ends'), e.g. from `pusht collect`.");
    readonly Option<DirectoryInfo?> output = CliOptions.OutputFolder("--out",
        "Run directory: resumes from its last save if it holds one (same config and dataset); the trained policy is written to <out>/policy.", required: true);
    readonly Option<int?> steps = CliOptions.OptionalInt("--steps",
        "Override training.steps of the config; with a finished run's --out it extends that run (the cosine decay restarts over the new total). Not below the step the run has reached.", 1, MaxSteps);
    readonly Option<string> device = CliOptions.Device();
    readonly Option<int> threads = CliOptions.Threads();

    public TrainCommand()
        : base("train", "Train a DiffusionPolicy on demonstrations. Resumable: Ctrl-C or SIGTERM saves and stops (kill -9 loses at most save_every steps); run the same command again to go on.")
    {
        Add(config, data, output, steps, device, threads);
    }

    public override Settings Bind(ParseResult parse) => new(
        parse.GetValue(config)!.FullName, parse.GetValue(data)!.FullName, parse.GetValue(output)!.FullName, parse.GetValue(steps), parse.GetValue(device)!, parse.GetValue(threads));

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var policyConfig = CliErrors.Reading("--config", settings.Config, () => PolicyConfig.Load(settings.Config));
        if (settings.Steps is { } s)
            policyConfig = policyConfig with { Training = policyConfig.Training with { Steps = s } };
        var directory = OutputPaths.Folder("--out", new DirectoryInfo(settings.Out))!;
        TorchRuntime.SetThreads(settings.Threads);
        var torchDevice = CliErrors.Reading("--device", settings.Device, () => TorchRuntime.ResolveDevice(settings.Device));
        var buffer = CliErrors.Reading("--data", settings.Data, () => ReplayBuffer.Load(settings.Data));
        if (policyConfig.ObsEncoder is not null) return TrainImages(policyConfig, buffer, settings, directory, torchDevice, cancel);
        var run = new TrainingRun(policyConfig, buffer, directory, torchDevice);
        CliErrors.Reading("--data", settings.Data, run.CheckData);
        CliErrors.Reading("--out", directory, run.CheckDirectory);

        AnsiConsole.MarkupLineInterpolated(
            $"Training on [bold]{buffer.Episodes}[/] episodes ({buffer.Steps} steps), device {torchDevice}, {TorchRuntime.Threads} threads → {run.PolicyDirectory}");
        return Train(policyConfig.Training.Steps, directory, run.LogPath, run.PolicyDirectory, progress => run.Run(progress, cancel: cancel));
    }

    /// <summary>An image policy (a config with obs_encoder): trained from scratch, not resumable, so an existing run is never overwritten.</summary>
    static int TrainImages(PolicyConfig policyConfig, ReplayBuffer buffer, Settings settings, string directory, TorchSharp.torch.Device device, CancellationToken cancel)
    {
        var run = CliErrors.Reading("--config", settings.Config, () => new ImageTrainingRun(policyConfig, buffer, directory, device));
        CliErrors.Reading("--data", settings.Data, run.CheckData);
        if (Directory.Exists(run.PolicyDirectory) || File.Exists(run.LogPath))
            throw new CliInputException("--out", $"'{directory}' holds a run already; image training is not resumable: use a new --out directory.");
        AnsiConsole.MarkupLineInterpolated(
            $"Training an image policy on [bold]{buffer.Episodes}[/] episodes ({buffer.Steps} steps), device {device}, {TorchRuntime.Threads} threads → {run.PolicyDirectory}");
        return Train(policyConfig.Training.Steps, directory, run.LogPath, run.PolicyDirectory, progress => run.Run(progress, cancel));
    }

    /// <summary>Runs <paramref name="train"/> under a progress bar, then plots the loss curve and says where it stopped.</summary>
    static int Train(int steps, string directory, string logPath, string policyDirectory, Func<IProgress<TrainingProgress>, int> train)
    {
        var reached = 0;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask("train", maxValue: steps);
                double? lastVal = null, lastScore = null;
                var progress = new SynchronousProgress<TrainingProgress>(p =>
                {
                    lastVal = p.ValLoss ?? lastVal;
                    lastScore = p.Score ?? lastScore;
                    task.Value = p.Step;
                    var val = lastVal is { } v ? string.Create(CultureInfo.InvariantCulture, $" val {v:F4}") : "";
                    var score = lastScore is { } sc ? string.Create(CultureInfo.InvariantCulture, $" score {sc:F3}") : "";
                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"step {p.Step} loss {p.Loss:F4} lr {p.LearningRate:E1} {p.SamplesPerSecond:F1} samples/s{val}{score}");
                });
                reached = train(progress);
            });
        LossCurve.Plot(logPath, Path.Combine(directory, "loss.png"));
        AnsiConsole.MarkupLineInterpolated($"Stopped at step {reached}/{steps}; policy: {policyDirectory}; curve: loss.png");
        return reached == steps ? ExitCodes.Done : ExitCodes.Interrupted;
    }

    /// <summary>Reports on the training thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
