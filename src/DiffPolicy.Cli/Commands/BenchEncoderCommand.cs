using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffPolicy.Cli.Benchmarks;
using DiffPolicy.Data;
using DiffPolicy.Policy;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// <c>diffpolicy bench encoder</c>: the image encoder's time per chunk and per frame (batch 1, once per chunk on
/// n_obs_steps frames per camera) for 1 and 2 cameras at 96×96 and 240×320, and an image checkpoint's own encoder, next
/// to the checkpoint's whole chunk, in one run.
/// </summary>
internal sealed class BenchEncoderCommand : VerbCommand<BenchEncoderCommand.Settings>
{
    /// <param name="Json">Where to write the report, or null.</param>
    public sealed record Settings(string Checkpoint, int Chunks = 10, int Warmup = 2, int Threads = 1, ulong Seed = 0, string? Json = null);

    public const int MaxChunks = 10_000, MaxWarmup = 1_000;

    readonly Option<DirectoryInfo> checkpoint = CliOptions.Checkpoint("The policy whose whole chunk the encoders are compared with; an image checkpoint adds its own encoder.");
    readonly Option<int> chunks = CliOptions.Int("--chunks", "Timed rounds: each row runs once per round, in rotating order.", 10, 1, MaxChunks);
    readonly Option<int> warmup = CliOptions.Int("--warmup", "Untimed rounds first.", 2, 0, MaxWarmup);
    readonly Option<int> threads = CliOptions.Int("--threads", "libtorch intra-op threads.", 1, 1, CliOptions.MaxThreads);
    readonly Option<ulong> seed = CliOptions.ULong("--seed", "Seed of the random encoders' inputs and of the sampler's noise.", 0, long.MaxValue);
    readonly Option<FileInfo?> json = CliOptions.OutputFile("--json", "Also write the measurements as JSON.");

    public BenchEncoderCommand()
        : base("encoder", "Image encoder milliseconds per chunk and per frame (1–2 cameras, 96×96 and 240×320, batch 1) and their share of a chunk, next to the checkpoint's whole chunk, in one run.")
    {
        Add(checkpoint, chunks, warmup, threads, seed, json);
    }

    public override Settings Bind(ParseResult parse) => new(
        parse.GetValue(checkpoint)!.FullName, parse.GetValue(chunks), parse.GetValue(warmup), parse.GetValue(threads), parse.GetValue(seed), parse.GetValue(json)?.FullName);

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var jsonPath = OutputPaths.File("--json", settings.Json is null ? null : new FileInfo(settings.Json));
        var (policy, sampling) = new PolicySettings(settings.Checkpoint, new SamplingSettings(), "cpu", settings.Threads).Load();
        using var owned = policy;
        var steps = policy.Config.NObsSteps;
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]bench encoder[/]: {settings.Checkpoint} ({sampling}), n_obs_steps {steps}, {settings.Chunks} rounds (+{settings.Warmup} warm-up), libtorch threads {settings.Threads}");
        AnsiConsole.MarkupLineInterpolated($"machine: {Environment.ProcessorCount} processors, load average {load}");
        var rows = EncoderBenchmark.Run(policy, settings.Chunks, settings.Warmup, settings.Seed);

        var table = new Table().AddColumn("what").AddColumn("cameras").AddColumn("frames").AddColumn("median ms / chunk").AddColumn("CPU ms / chunk")
            .AddColumn("ms / frame").AddColumn("share of a chunk").AddColumn("CPU share");
        foreach (var r in rows)
        {
            table.AddRow(Markup.Escape(r.What), r.Cameras.ToString(CultureInfo.InvariantCulture), Markup.Escape(r.Size), F(r.MedianMs, "F1"), F(r.MedianCpuMs, "F1"),
                double.IsNaN(r.MsPerFrame) ? "" : F(r.MsPerFrame, "F1"), F(100 * r.ShareOfChunk, "F0") + " %", F(100 * r.CpuShareOfChunk, "F0") + " %");
        }
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 140);
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated(
            $"A chunk encodes n_obs_steps = {steps} frames per camera once. Share of a chunk: encoder / (encoder + this checkpoint's sampler), the sampler being the whole chunk minus its own encoder, from wall or CPU medians of one run (CPU: steadier on a loaded machine) — compare rows, not runs. Load average after: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");
        if (jsonPath is not null)
        {
            var report = new
            {
                settings = new { settings.Checkpoint, settings.Chunks, settings.Warmup, LibtorchThreads = settings.Threads, NObsSteps = steps, Processors = Environment.ProcessorCount, LoadAverage = load },
                measurements = rows.Select(r => new { r.What, r.Cameras, r.Size, r.Frames, r.MedianMs, r.MedianCpuMs, MsPerFrame = double.IsNaN(r.MsPerFrame) ? (double?)null : r.MsPerFrame, r.ShareOfChunk, r.CpuShareOfChunk }),
            };
            AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(report, SnakeCaseJson.Options));
        }
        return ExitCodes.Done;
    }

    static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
