using System.Diagnostics;
using DiffPolicy.Cli.Evaluation;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Vision;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Benchmarks;

/// <summary>One row of <c>bench encoder</c>: what runs once per chunk, in milliseconds.</summary>
/// <param name="Frames">Frames encoded per chunk: n_obs_steps × cameras (0 for the whole chunk).</param>
/// <param name="MedianMs">Wall milliseconds per chunk (median).</param>
/// <param name="MedianCpuMs">The calling thread's CPU milliseconds per chunk (median): libtorch at one thread computes on it.</param>
/// <param name="MsPerFrame">Wall milliseconds per observation per camera: <see cref="MedianMs"/> / <see cref="Frames"/>.</param>
/// <param name="ShareOfChunk">This encoder's share of a chunk made of it and the checkpoint's sampler: encoder / (encoder + sampler), wall medians.</param>
/// <param name="CpuShareOfChunk">The same share from CPU medians: steadier than wall time on a loaded machine.</param>
internal sealed record EncoderMeasurement(string What, int Cameras, string Size, int Frames, double MedianMs, double MedianCpuMs, double MsPerFrame, double ShareOfChunk,
    double CpuShareOfChunk);

/// <summary>
/// Times a checkpoint's whole chunk (sampler, and the encoder when it has one) and image encoders (the checkpoint's own,
/// and ResNet-18 GroupNorm encoders with random weights for 1 and 2 cameras at 96×96 and 240×320 with diffusion_policy's
/// PushT and real-robot crops) at batch 1, one call each per round in rotating order so that load changes on a shared
/// machine hit all rows alike. The sampler alone is the whole chunk's median minus the own encoder's.
/// </summary>
internal static class EncoderBenchmark
{
    /// <summary>The random encoders timed: frame size and crop (diffusion_policy's image_pusht and real_pusht workspaces).</summary>
    public static readonly (int Height, int Width, int CropHeight, int CropWidth)[] Sizes = [(96, 96, 84, 84), (240, 320, 216, 288)];

    public static readonly int[] CameraCounts = [1, 2];

    public static List<EncoderMeasurement> Run(DiffusionPolicy policy, int rounds, int warmup, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var steps = policy.Config.NObsSteps;
        using var generator = new Generator(seed);
        using var noise = new Generator(seed);
        var rows = new List<(string What, int Cameras, string Size, Action Call, IDisposable? Owned)>();
        // The whole chunk on observations in the middle of [0, 1] (rgb) and of PushT's pixel range (low_dim).
        var observations = policy.Config.Inputs.ToDictionary(o => o.Key, o => Enumerable.Repeat(o.IsRgb ? 0.5f : 256f, steps * o.Length).ToArray());
        rows.Add(("whole chunk", policy.Encoder?.RgbKeys.Count ?? 0, "", () => policy.PredictActions(observations, 1, noise), null));
        if (policy.Encoder is { } own)
        {
            var inputs = Inputs(policy.Config.Inputs, steps, generator);
            var size = string.Join(", ", policy.Config.Inputs.Where(o => o.IsRgb).Select(o => $"{o.Shape[1]}×{o.Shape[2]}"));
            rows.Add(("this checkpoint's encoder", own.RgbKeys.Count, size, () => Encode(own, inputs), new Disposables(inputs.Values)));
        }
        foreach (var (height, width, cropHeight, cropWidth) in Sizes)
        {
            foreach (var cameras in CameraCounts)
            {
                var specs = Enumerable.Range(0, cameras).Select(c => new ObservationSpec($"camera_{c}", [3, height, width], ObservationSpec.Rgb))
                    .Append(new ObservationSpec("agent_pos", [2], ObservationSpec.LowDim)).ToList();
                var config = new ObsEncoderConfig { CropShape = specs.Where(s => s.IsRgb).ToDictionary(s => s.Key, _ => new[] { cropHeight, cropWidth }), ImagenetNorm = true };
                var encoder = new MultiImageObsEncoder(config, specs);
                encoder.eval();
                var inputs = Inputs(specs, steps, generator);
                rows.Add(("ResNet-18 GroupNorm, random weights", cameras, $"{height}×{width}, crop {cropHeight}×{cropWidth}", () => Encode(encoder, inputs),
                    new Disposables([encoder, .. inputs.Values])));
            }
        }

        var wall = rows.Select(_ => new List<double>()).ToArray();
        var cpu = rows.Select(_ => new List<double>()).ToArray();
        try
        {
            for (var round = -warmup; round < rounds; round++)
            {
                for (var k = 0; k < rows.Count; k++)
                {
                    var r = (k + Math.Max(round, 0)) % rows.Count;
                    var cpuStarted = ThreadCpu.Milliseconds();
                    var started = Stopwatch.GetTimestamp();
                    rows[r].Call();
                    if (round < 0) continue;
                    wall[r].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    cpu[r].Add(ThreadCpu.Milliseconds() - cpuStarted);
                }
            }
        }
        finally
        {
            foreach (var row in rows) row.Owned?.Dispose();
        }

        var medians = wall.Select(w => Quantiles.R7(w, 0.5)).ToArray();
        var cpuMedians = cpu.Select(c => Quantiles.R7(c, 0.5)).ToArray();
        // Row 0 is the whole chunk; row 1 the checkpoint's own encoder when it has one (already part of the chunk).
        double Share(double[] m, int r)
        {
            if (r == 0) return 1;
            if (policy.Encoder is not null && r == 1) return m[1] / m[0];
            var sampler = policy.Encoder is null ? m[0] : Math.Max(0, m[0] - m[1]);
            return m[r] / (m[r] + sampler);
        }
        return [.. rows.Select((row, r) =>
        {
            var frames = r == 0 ? 0 : steps * row.Cameras;
            return new EncoderMeasurement(row.What, row.Cameras, row.Size, frames, medians[r], cpuMedians[r],
                frames == 0 ? double.NaN : medians[r] / frames, Share(medians, r), Share(cpuMedians, r));
        })];
    }

    /// <summary>Random inputs of n_obs_steps rows per key: rgb in [0, 1), low_dim standard normal (already normalised).</summary>
    static Dictionary<string, Tensor> Inputs(IEnumerable<ObservationSpec> specs, int steps, Generator generator) =>
        specs.ToDictionary(s => s.Key, s => (s.IsRgb ? rand([steps, .. s.Shape.Select(d => (long)d)], generator: generator) : randn([steps, s.Shape[0]], generator: generator)).DetachFromDisposeScope());

    static void Encode(MultiImageObsEncoder encoder, IReadOnlyDictionary<string, Tensor> inputs)
    {
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        encoder.call(inputs);
    }

    sealed class Disposables(IEnumerable<IDisposable> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items) item.Dispose();
        }
    }
}
