using System.CommandLine;
using System.Globalization;
using DiffPolicy.Data;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Training;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config")
        {
            Description = "Policy configuration (JSON), e.g. configs/pusht_keypoints.json.",
            Required = true,
        };
        var data = new Option<FileInfo>("--data")
        {
            Description = "Demonstrations (.npz with the config's obs_key, 'action' and 'episode_ends'), e.g. from `pusht collect`.",
            Required = true,
        };
        var output = new Option<DirectoryInfo>("--out")
        {
            Description = "Run directory: resumes from its last save if it holds one; the trained policy is written to <out>/policy.",
            Required = true,
        };
        var steps = new Option<int?>("--steps") { Description = "Override training.steps of the config; with a finished run's --out it extends that run (the cosine decay restarts over the new total)." };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();

        var command = new Command("train", "Train a DiffusionPolicy on demonstrations. Resumable: interrupt it (Ctrl-C saves; kill -9 loses at most save_every steps) and run the same command again.")
        {
            config, data, output, steps, device, threads,
        };
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse, cancel)));
        return command;

        int Run(ParseResult parse, CancellationToken cancel)
        {
            var policyConfig = PolicyConfig.Load(parse.GetValue(config)!.FullName);
            if (parse.GetValue(steps) is { } s)
                policyConfig = policyConfig with { Training = policyConfig.Training with { Steps = s } };
            TorchRuntime.SetThreads(parse.GetValue(threads));
            var torchDevice = TorchRuntime.ResolveDevice(parse.GetValue(device)!);
            var buffer = ReplayBuffer.Load(parse.GetValue(data)!.FullName);
            var run = new TrainingRun(policyConfig, buffer, parse.GetValue(output)!.FullName, torchDevice);

            AnsiConsole.MarkupLineInterpolated(
                $"Training on [bold]{buffer.Episodes}[/] episodes ({buffer.Steps} steps), device {torchDevice}, {TorchRuntime.Threads} threads → {run.PolicyDirectory}");
            int reached = 0;
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    var task = context.AddTask("train", maxValue: policyConfig.Training.Steps);
                    double? lastVal = null, lastScore = null;
                    var progress = new SynchronousProgress<TrainingProgress>(p =>
                    {
                        lastVal = p.ValLoss ?? lastVal;
                        lastScore = p.Score ?? lastScore;
                        task.Value = p.Step;
                        string val = lastVal is { } v ? string.Create(CultureInfo.InvariantCulture, $" val {v:F4}") : "";
                        string score = lastScore is { } sc ? string.Create(CultureInfo.InvariantCulture, $" score {sc:F3}") : "";
                        task.Description = string.Create(CultureInfo.InvariantCulture,
                            $"step {p.Step} loss {p.Loss:F4} lr {p.LearningRate:E1} {p.SamplesPerSecond:F0} samples/s{val}{score}");
                    });
                    reached = run.Run(progress, cancel: cancel);
                });
            LossCurve.Plot(run.LogPath, Path.Combine(parse.GetValue(output)!.FullName, "loss.png"));
            AnsiConsole.MarkupLineInterpolated($"Stopped at step {reached}/{policyConfig.Training.Steps}; policy: {run.PolicyDirectory}; curve: loss.png");
            return reached == policyConfig.Training.Steps ? 0 : 130;
        }
    }

    /// <summary>Reports on the training thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
