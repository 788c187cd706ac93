using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DiffPolicy.Cli.Commands;
using DiffPolicy.Data;

namespace DiffPolicy.Cli.Benchmarks;

/// <summary>One thread count of the original's eager chunk, as pytorch_reference.py reports it.</summary>
internal sealed record EagerRun(int Threads, double[] ChunkMs, double MedianMs, double P99Ms, double PerCallMs);

/// <summary>What pytorch_reference.py measured: the original ConditionalUnet1D on PyTorch, sequential DDPM chunks at batch 1.</summary>
internal sealed record EagerReport(string Torch, string Network, string Weights, int Steps, int DefaultThreads, EagerRun[] Runs)
{
    /// <summary>The fastest eager setting (lowest median): what the ratios divide by.</summary>
    public EagerRun Fastest => Runs.MinBy(r => r.MedianMs)!;
}

/// <summary>A ParaDiGMS (or sequential) variant of the bench against the fastest eager chunk of the same run.</summary>
/// <param name="MedianRatio">Variant median / eager median (issue 15: ≤ 0.05).</param>
/// <param name="P99Ratio">Variant p99 / eager median (issue 15: ≤ 0.06).</param>
internal sealed record EagerRatio(string Backend, int Threads, string Method, int Window, string Start, int Workers, double MedianMs, double P99Ms,
    double MedianRatio, double P99Ratio, bool Met);

/// <summary>
/// <c>bench sampler --pytorch-reference DP_SRC</c>: runs pytorch_reference.py (this assembly's resource, our code) with
/// Debian's python3-torch, which imports the ORIGINAL ConditionalUnet1D from DP_SRC (a diffusion_policy source tree
/// the user provides), loads the checkpoint's unet.safetensors into it with strict=True and times sequential 100-step
/// DDPM chunks on the observations the bench conditioned its own chunks on.
/// </summary>
internal static class PytorchReference
{
    /// <summary>Where the original ConditionalUnet1D sits inside DP_SRC.</summary>
    public const string NetworkFile = "diffusion_policy/model/diffusion/conditional_unet1d.py";

    /// <summary>Issue 15's criterion: ParaDiGMS chunk median and p99 against the eager chunk.</summary>
    public const double MedianGoal = 0.05, P99Goal = 0.06;

    public static string DefaultPython => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Bad input before any work: DP_SRC without the original network, or a Python that is not there.</summary>
    public static void Check(string dpSrc, string python)
    {
        if (!File.Exists(Path.Combine(dpSrc, NetworkFile)))
        {
            throw new CliInputException("--pytorch-reference",
                $"'{dpSrc}' has no {NetworkFile}: extract real-stanford/diffusion_policy's diffusion_policy/model and diffusion_policy/common there (docs/sampling.md)");
        }
        var found = python.Contains('/', StringComparison.Ordinal)
            ? File.Exists(python)
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, python)));
        if (!found) throw new CliInputException("--python", $"'{python}' is not an executable file or on PATH");
    }

    /// <summary>The script's text, as shipped in this assembly.</summary>
    public static string ScriptText()
    {
        using var stream = typeof(PytorchReference).Assembly.GetManifestResourceStream("pytorch_reference.py")
            ?? throw new InvalidOperationException("pytorch_reference.py is not in the diffpolicy assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The script's command line (after the interpreter).</summary>
    public static List<string> Arguments(string script, string dpSrc, string checkpoint, string conds, string output, IEnumerable<int> threads, int chunks, int warmup) =>
    [
        script, dpSrc, checkpoint, conds, output,
        "--threads", string.Join(',', threads.Select(t => t.ToString(CultureInfo.InvariantCulture))),
        "--chunks", chunks.ToString(CultureInfo.InvariantCulture),
        "--warmup", warmup.ToString(CultureInfo.InvariantCulture),
    ];

    /// <summary>Runs the script on <paramref name="conds"/> (rows of global_cond_dim) and reads its report.</summary>
    /// <exception cref="InvalidOperationException">The script failed (its last line of stderr says why).</exception>
    public static EagerReport Run(string python, string dpSrc, string checkpoint, IReadOnlyList<float[]> conds, IEnumerable<int> threads, int chunks, int warmup,
        CancellationToken cancel)
    {
        var folder = Directory.CreateTempSubdirectory("diffpolicy-eager-").FullName;
        try
        {
            var script = Path.Combine(folder, "pytorch_reference.py");
            File.WriteAllText(script, ScriptText());
            var condsPath = Path.Combine(folder, "conds.npy");
            var width = conds[0].Length;
            using (var file = File.Create(condsPath))
                Npy.Write(file, new NpyArray(conds.SelectMany(c => c).ToArray(), conds.Count, width));
            var output = Path.Combine(folder, "eager.json");
            var start = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var argument in Arguments(script, Path.GetFullPath(dpSrc), checkpoint, condsPath, output, threads, chunks, warmup)) start.ArgumentList.Add(argument);
            using var process = StartProcess(start, python);
            var stderr = process.StandardError.ReadToEndAsync(cancel);
            _ = process.StandardOutput.ReadToEndAsync(cancel);
            try
            {
                process.WaitForExitAsync(cancel).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            if (process.ExitCode != 0)
            {
                var last = stderr.GetAwaiter().GetResult().Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "no message";
                throw new InvalidOperationException($"--pytorch-reference: the PyTorch reference failed (exit {process.ExitCode}): {last}");
            }
            return JsonSerializer.Deserialize<EagerReport>(File.ReadAllText(output), SnakeCaseJson.Options)
                ?? throw new InvalidOperationException("--pytorch-reference: the PyTorch reference wrote no report");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    static Process StartProcess(ProcessStartInfo start, string python)
    {
        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException($"--python: '{python}' did not start");
        }
        catch (Win32Exception e)
        {
            throw new CliInputException("--python", $"cannot run '{python}': {e.Message}", e);
        }
    }

    /// <summary>Every 100-step DDPM variant of the bench against the fastest eager chunk.</summary>
    public static List<EagerRatio> Ratios(IEnumerable<SamplerMeasurement> measurements, EagerReport eager)
    {
        var reference = eager.Fastest.MedianMs;
        return measurements
            .Where(m => m.Scheduler == "DDPM" && m.Steps == eager.Steps)
            .Select(m => new EagerRatio(m.Backend, m.Threads, m.Method, m.Window, m.Start, m.Workers, m.MedianMs, m.P99Ms, m.MedianMs / reference, m.P99Ms / reference,
                m.MedianMs / reference <= MedianGoal && m.P99Ms / reference <= P99Goal))
            .ToList();
    }
}
