using System.CommandLine;
using DiffPolicy.Policy.Export;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy export --onnx FILE</c>: the noise-prediction network as an ONNX model (docs/onnx.md).</summary>
internal sealed class ExportCommand : VerbCommand<ExportCommand.Settings>
{
    public sealed record Settings(string Checkpoint, string? Onnx);

    readonly Option<DirectoryInfo> checkpoint = CliOptions.Checkpoint("A policy checkpoint (policy.json) or a network checkpoint from `import` (unet.config.json).");
    readonly Option<FileInfo?> onnx = CliOptions.OutputFile("--onnx", "Write the noise-prediction network here as ONNX (opset 17, dynamic batch and horizon).");

    public ExportCommand()
        : base("export", "Export the checkpoint's noise-prediction network for other runtimes (ONNX Runtime, TensorRT, Python).")
    {
        Add(checkpoint, onnx);
    }

    public override Settings Bind(ParseResult parse) => new(parse.GetValue(checkpoint)!.FullName, parse.GetValue(onnx)?.FullName);

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Onnx is null) throw new CliInputException("--onnx", "nothing to export: pass --onnx FILE.");
        var onnxPath = OutputPaths.File("--onnx", new FileInfo(settings.Onnx))!;
        using var network = PolicyOptions.LoadNetwork(settings.Checkpoint);
        UnetOnnxExport.Write(network, onnxPath, new Dictionary<string, string> { ["checkpoint"] = settings.Checkpoint });
        Console.WriteLine($"wrote {onnxPath}: ConditionalUnet1D, ONNX opset {UnetOnnxExport.Opset}, inputs sample (batch, horizon, {network.Config.InputDim}), timestep (batch) int64, global_cond (batch, {network.Config.GlobalCondDim}); output (batch, horizon, {network.Config.InputDim})");
        return ExitCodes.Done;
    }
}
