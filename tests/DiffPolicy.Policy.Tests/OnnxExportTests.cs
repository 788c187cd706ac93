using System.Diagnostics;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Export;
using DiffPolicy.Policy.Network;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// The exported ONNX model run by ONNX Runtime (an independent implementation of every operator) against the
/// TorchSharp network with the same weights, at several batch sizes and horizons (the dynamic axes); and
/// the file checked by the onnx package's own checker.
/// </summary>
public sealed class OnnxExportTests(ITestOutputHelper output)
{
    static ConditionalUnet1D Fixture() => UnetCheckpoint.Import(Fixtures.Unet("unet_small.safetensors"), Fixtures.Unet("unet_small.config.json"));

    static ConditionalUnet1D Shipped() => PolicyCheckpoint.Load(Path.Combine(RepoPaths.Root, "checkpoints", "pusht")).Network;

    [Theory]
    [InlineData("fixture")]
    [InlineData("shipped")]
    public void Onnx_Runtime_matches_TorchSharp_for_any_batch_and_horizon(string weights)
    {
        using var network = weights == "fixture" ? Fixture() : Shipped();
        var model = UnetOnnxExport.Serialize(network);
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        Assert.Equal([UnetOnnxExport.SampleInput, UnetOnnxExport.TimestepInput, UnetOnnxExport.GlobalCondInput], session.InputMetadata.Keys);
        Assert.Equal([-1, -1, network.Config.InputDim], session.InputMetadata[UnetOnnxExport.SampleInput].Dimensions);
        foreach (var (rows, horizon) in new[] { (1, 16), (3, 16), (10, 16), (2, 32), (4, 8) })
        {
            using var scope = NewDisposeScope();
            using var mode = inference_mode();
            using var generator = new Generator((ulong)(rows * 37 + horizon));
            var sample = randn([rows, horizon, network.Config.InputDim], generator: generator);
            var timestep = randint(0, 100, [rows], int64, generator: generator);
            var cond = randn([rows, network.Config.GlobalCondDim], generator: generator);
            var expected = network.call(sample, timestep, cond).data<float>().ToArray();
            using var results = session.Run(
            [
                NamedOnnxValue.CreateFromTensor(UnetOnnxExport.SampleInput, new DenseTensor<float>(sample.data<float>().ToArray(), [rows, horizon, network.Config.InputDim])),
                NamedOnnxValue.CreateFromTensor(UnetOnnxExport.TimestepInput, new DenseTensor<long>(timestep.data<long>().ToArray(), [rows])),
                NamedOnnxValue.CreateFromTensor(UnetOnnxExport.GlobalCondInput, new DenseTensor<float>(cond.data<float>().ToArray(), [rows, network.Config.GlobalCondDim])),
            ]);
            var result = results.Single(r => r.Name == UnetOnnxExport.Output).AsTensor<float>();
            Assert.Equal([rows, horizon, network.Config.InputDim], result.Dimensions.ToArray());
            double difference = expected.Zip(result.ToArray(), (e, a) => Math.Abs(e - a)).Max();
            output.WriteLine($"{weights}: {rows} rows, horizon {horizon}: max |ONNX Runtime − TorchSharp| = {difference:E2}");
            Assert.InRange(difference, 0, 1e-5);
        }
    }

    [Fact]
    public void The_onnx_checker_accepts_the_model_with_full_shape_inference()
    {
        using var network = Fixture();
        Assert.Equal("17 ['batch', 'horizon', 2]", Check(path => UnetOnnxExport.Write(network, path)));
    }

    /// <summary>
    /// Writes a model with <paramref name="write"/> and runs <c>onnx.checker.check_model(full_check=True)</c> on it
    /// (python3-onnx, installed by tests/run.sh); returns what <paramref name="print"/> (a Python expression of the
    /// loaded model <c>m</c>) prints, by default "opset [first input's dims]".
    /// </summary>
    internal static string Check(Action<string> write, string print = "m.opset_import[0].version, [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]")
    {
        var folder = Directory.CreateTempSubdirectory("onnx-export").FullName;
        try
        {
            var path = Path.Combine(folder, "model.onnx");
            write(path);
            var start = new ProcessStartInfo("/usr/bin/python3", ["-c",
                $"import sys, onnx; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print({print})", path])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"onnx checker (python3-onnx, installed by tests/run.sh): {stderr.Result}");
            return stdout.Trim();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
