using System.CommandLine;
using System.Globalization;
using DiffPolicy.Cli.Soak;
using DiffPolicy.Control;
using NetMQ;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy soak</c>: the real-time closed loop on loopback for a while; latency, slack, misses, memory.</summary>
internal static class SoakCommand
{
    public static Command Create()
    {
        var duration = new Option<TimeSpan>("--duration")
        {
            Description = "How long to run: 90s, 10m, 1h (or seconds).",
            DefaultValueFactory = _ => TimeSpan.FromMinutes(10),
            CustomParser = result => ParseDuration(result.Tokens.Single().Value) ?? Fail(result),
        };
        var lead = new Option<int?>("--lead") { Description = "Ask for the next chunk when this many planned actions remain (default horizon − n_obs_steps + 1 − n_action_steps: a new chunk every n_action_steps steps)." };
        var json = new Option<FileInfo?>("--json") { Description = "Write the report (percentiles, misses, memory, samples) as JSON." };
        var plot = new Option<FileInfo?>("--plot") { Description = "Write chunk latency and RSS over time as a PNG." };
        var policyOptions = new PolicyOptions();
        var command = new Command("soak", "Run a policy server and the real-time PushT robot on loopback for a duration: chunk latency and slack percentiles (HdrHistogram), deadline misses, RSS, native tensors, GC.")
        {
            duration, lead, json, plot,
        };
        foreach (var option in policyOptions.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            if (parse.GetValue(lead) is < 1)
            {
                Console.Error.WriteLine("soak: --lead must be at least 1.");
                return 2;
            }
            if (policyOptions.Directory(parse, "soak") is not { } directory) return 2;
            var (loaded, description) = policyOptions.Load(parse, directory);
            using var diffusion = loaded;
            using var policy = new DiffusionChunkPolicy(diffusion);
            var span = parse.GetValue(duration);
            AnsiConsole.MarkupLineInterpolated($"Soaking [bold]{directory}[/] for {span}: {description}, real time on loopback TCP");
            SoakReport? report = null;
            try
            {
                AnsiConsole.Live(Status(null, null, span)).Start(context =>
                {
                    report = new SoakRun(policy, span) { Lead = parse.GetValue(lead) }.Run(description, (sample, latency) =>
                    {
                        context.UpdateTarget(Status(sample, latency, span));
                        context.Refresh();
                    });
                });
            }
            finally
            {
                NetMQConfig.Cleanup(block: false);
            }
            Print(report!);
            if (parse.GetValue(json) is { } path)
            {
                File.WriteAllText(path.FullName, report!.ToJson());
                AnsiConsole.MarkupLineInterpolated($"Report: {path.FullName}");
            }
            if (parse.GetValue(plot) is { } png)
            {
                SoakPlot.Save(report!, png.FullName);
                AnsiConsole.MarkupLineInterpolated($"Plot: {png.FullName}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>"90s", "10m", "1h", "1.5m" or plain seconds; null when it is none of these or not positive.</summary>
    internal static TimeSpan? ParseDuration(string text)
    {
        var (number, unit) = text.Length > 0 && char.IsLetter(text[^1]) ? (text[..^1], text[^1]) : (text, 's');
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value <= 0) return null;
        return unit switch
        {
            's' => TimeSpan.FromSeconds(value),
            'm' => TimeSpan.FromMinutes(value),
            'h' => TimeSpan.FromHours(value),
            _ => null,
        };
    }

    static TimeSpan Fail(System.CommandLine.Parsing.ArgumentResult result)
    {
        result.AddError($"'{result.Tokens.Single().Value}' is not a duration: use 90s, 10m, 1h or seconds.");
        return default;
    }

    static Table Status(ProcessSample? sample, Percentiles? latency, TimeSpan duration)
    {
        static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
        var table = new Table().AddColumn("soak").AddColumn("now");
        if (sample is null || latency is null) return table.AddRow("starting", "");
        table.AddRow("elapsed", $"{F(sample.Seconds)} s of {F(duration.TotalSeconds)} s");
        table.AddRow("chunks / deadline misses (finished episodes)", $"{sample.Chunks} / {sample.DeadlineMisses}");
        table.AddRow("chunk latency p50 / p99 / max (ms)", $"{F(latency.P50)} / {F(latency.P99)} / {F(latency.Max)}");
        table.AddRow("RSS (MB) / live tensors", $"{F(sample.RssMb)} / {sample.Tensors}");
        table.AddRow("GC gen0 / gen1 / gen2", $"{sample.Gen0} / {sample.Gen1} / {sample.Gen2}");
        return table;
    }

    static void Print(SoakReport report)
    {
        static string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);
        static string P(Percentiles p) => $"{F(p.Min)} / {F(p.P50)} / {F(p.P90)} / {F(p.P99)} / {F(p.P99_9)} / {F(p.Max)}";
        var m = report.Memory;
        var table = new Table().AddColumn("metric").AddColumn("value");
        table.AddRow("duration (s) / episodes / ticks", $"{F(report.DurationSeconds)} / {report.Episodes} / {report.Ticks}");
        table.AddRow("chunks / late chunks / deadline misses", $"{report.Chunks} / {report.LateChunks} / {report.DeadlineMisses}");
        table.AddRow("chunk latency min / p50 / p90 / p99 / p99.9 / max (ms)", P(report.ChunkLatencyMs));
        table.AddRow("  without episodes' first chunks", P(report.SteadyChunkLatencyMs));
        table.AddRow("server infer min / p50 / p90 / p99 / p99.9 / max (ms)", P(report.ServerInferMs));
        table.AddRow("slack at arrival min / p50 / p90 / p99 / p99.9 / max (ms)", P(report.SlackMs));
        table.AddRow("RSS start / after warm-up / end (MB), drift", $"{F(m.RssStartMb)} / {F(m.RssAfterWarmupMb)} / {F(m.RssEndMb)}, {F(m.RssDriftMb)}");
        table.AddRow("live tensors start / after warm-up / end, drift", $"{m.TensorsStart} / {m.TensorsAfterWarmup} / {m.TensorsEnd}, {m.TensorDrift}");
        table.AddRow("GC collections gen0 / gen1 / gen2", $"{m.Gen0Collections} / {m.Gen1Collections} / {m.Gen2Collections}");
        table.AddRow("sampler", Markup.Escape(report.Sampler));
        AnsiConsole.Write(table);
    }
}
