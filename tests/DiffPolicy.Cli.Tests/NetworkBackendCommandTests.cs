using System.Text.Json;
using DiffPolicy.Cli.Commands;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Network;
using TorchSharp;

namespace DiffPolicy.Cli.Tests;

/// <summary>The --backend choice where a policy is loaded, bench network and export --onnx, on a tiny checkpoint.</summary>
public sealed class NetworkBackendCommandTests : IDisposable
{
    readonly TinyCheckpoint checkpoint = new();

    public void Dispose() => checkpoint.Dispose();

    [Fact]
    public void Auto_is_the_fast_network_on_a_CPU_and_both_backends_predict_the_same_actions()
    {
        using var auto = DiffusionPolicy.Load(checkpoint.Directory);
        using var fast = DiffusionPolicy.Load(checkpoint.Directory, backend: NetworkBackend.Fast);
        using var slow = DiffusionPolicy.Load(checkpoint.Directory, backend: NetworkBackend.Torch);
        Assert.Equal(NetworkBackend.Fast, auto.Backend);
        Assert.Equal(NetworkBackend.Fast, fast.Backend);
        Assert.Equal(NetworkBackend.Torch, slow.Backend);

        var observations = Enumerable.Range(0, 2 * 18).Select(i => 10f * i).ToArray();
        using var first = new torch.Generator(5);
        using var second = new torch.Generator(5);
        var a = fast.PredictActions(observations, 1, first);
        var b = slow.PredictActions(observations, 1, second);
        // Robot units (pixels, range 0–512): float rounding of two implementations of one network, through 10 steps.
        Assert.Equal(a.Actions.Length, b.Actions.Length);
        Assert.All(a.Actions.Zip(b.Actions), pair => Assert.InRange(Math.Abs(pair.First - pair.Second), 0, 1e-2));
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("1")]
    [InlineData("")]
    public void Unknown_backend_names_are_rejected(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => NoisePredictors.Parse(name));
        Assert.Contains("auto, fast or torch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_network_measures_every_backend_at_every_row_count_and_writes_its_report()
    {
        var json = Path.Combine(Path.GetDirectoryName(checkpoint.Directory)!, "bench_network.json");
        var code = new BenchNetworkCommand().Run(new BenchNetworkCommand.Settings(
            checkpoint.Directory, [1, 3], [NetworkBackend.Torch, NetworkBackend.Fast], Calls: 3, Warmup: 1, Threads: 1, Seed: 0, Json: json));
        Assert.Equal(0, code);
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var measurements = report.RootElement.GetProperty("measurements").EnumerateArray().ToList();
        Assert.Equal(["torch/1", "fast/1", "torch/3", "fast/3"], measurements.Select(m => $"{m.GetProperty("Backend").GetString()}/{m.GetProperty("Rows").GetInt32()}"));
        Assert.All(measurements, m => Assert.True(m.GetProperty("MedianMs").GetDouble() > 0 && m.GetProperty("MedianCpuMs").GetDouble() > 0, m.ToString()));
        Assert.All(measurements.Where(m => m.GetProperty("Backend").GetString() == "torch"), m => Assert.Equal(1, m.GetProperty("Ratio").GetDouble()));
        Assert.False(File.Exists(json + ".tmp"));
    }

    [Fact]
    public void Export_writes_an_onnx_file_and_names_what_is_wrong_otherwise()
    {
        var folder = Path.GetDirectoryName(checkpoint.Directory)!;
        var onnx = Path.Combine(folder, "unet.onnx");
        int Export(string checkpointDirectory, string? file, out string error, string? encoderFile = null)
        {
            var command = new ExportCommand();
            using var writer = new StringWriter();
            var code = CliErrors.Run("export", writer, () => command.Run(new ExportCommand.Settings(checkpointDirectory, file, encoderFile)));
            error = writer.ToString();
            return code;
        }

        Assert.Equal(0, Export(checkpoint.Directory, onnx, out _));
        var bytes = File.ReadAllBytes(onnx);
        Assert.Equal(0x08, bytes[0]);   // ModelProto field 1 (ir_version), varint
        Assert.Equal(8, bytes[1]);      // IR version 8
        Assert.False(File.Exists(onnx + ".tmp"));

        Assert.Equal(2, Export(checkpoint.Directory, null, out var error));
        Assert.Contains("--onnx", error, StringComparison.Ordinal);
        Assert.Equal(2, Export(checkpoint.Directory, folder, out error));   // a folder, not a file
        Assert.Contains("--onnx", error, StringComparison.Ordinal);
        Assert.Equal(2, Export(Path.Combine(folder, "no-checkpoint"), onnx, out error));
        Assert.Contains("no-checkpoint", error, StringComparison.Ordinal);
        // A low-dim checkpoint has no observation encoder to write.
        var encoder = Path.Combine(folder, "encoder.onnx");
        Assert.Equal(2, Export(checkpoint.Directory, onnx, out error, encoder));
        Assert.Contains("--encoder-onnx", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(File.Exists(encoder));
        Assert.False(File.Exists(Path.Combine(folder, "unet" + ExportCommand.EncoderSuffix)));
    }
}
