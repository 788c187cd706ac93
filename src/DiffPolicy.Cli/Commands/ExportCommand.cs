using System.CommandLine;
using DiffPolicy.Data;
using DiffPolicy.Policy.Export;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// <c>diffpolicy export --onnx FILE [--encoder-onnx FILE2]</c>: the noise-prediction network as an ONNX model and, for an
/// image policy, its observation encoder as a second one (docs/onnx.md).
/// </summary>
internal sealed class ExportCommand : VerbCommand<ExportCommand.Settings>
{
    public sealed record Settings(string Checkpoint, string? Onnx, string? EncoderOnnx = null);

    /// <summary>Where the encoder goes when --encoder-onnx is not given: beside the U-Net, &lt;stem&gt;.obs_encoder.onnx.</summary>
    public const string EncoderSuffix = ".obs_encoder.onnx";

    readonly Option<DirectoryInfo> checkpoint = CliOptions.Checkpoint("A policy checkpoint (policy.json) or a network checkpoint from `import` (unet.config.json).");
    readonly Option<FileInfo?> onnx = CliOptions.OutputFile("--onnx", "Write the noise-prediction network here as ONNX (opset 17, dynamic batch and horizon).");
    readonly Option<FileInfo?> encoderOnnx = CliOptions.OutputFile("--encoder-onnx",
        $"Image policies: write the observation encoder here as ONNX (opset 17, dynamic rows). Default: beside --onnx, <stem>{EncoderSuffix}.");

    public ExportCommand()
        : base("export", "Export the checkpoint's noise-prediction network (and an image policy's observation encoder) for other runtimes (ONNX Runtime, TensorRT, Python).")
    {
        Add(checkpoint, onnx, encoderOnnx);
    }

    public override Settings Bind(ParseResult parse) =>
        new(parse.GetValue(checkpoint)!.FullName, parse.GetValue(onnx)?.FullName, parse.GetValue(encoderOnnx)?.FullName);

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Onnx is null) throw new CliInputException("--onnx", "nothing to export: pass --onnx FILE.");
        var onnxPath = OutputPaths.File("--onnx", new FileInfo(settings.Onnx))!;
        var (network, policy) = PolicyOptions.LoadCheckpoint(settings.Checkpoint);
        using var owner = (IDisposable?)policy ?? network;
        var encoder = policy?.Encoder;
        if (encoder is null && settings.EncoderOnnx is not null)
            throw new CliInputException("--encoder-onnx", $"'{settings.Checkpoint}' has no observation encoder (not an image policy); drop --encoder-onnx.");

        var metadata = new Dictionary<string, string> { ["checkpoint"] = settings.Checkpoint };
        var unet = UnetOnnxExport.Serialize(network, metadata);
        (string Path, byte[] Model)? encoderFile = null;
        if (encoder is not null)
        {
            var encoderPath = OutputPaths.File("--encoder-onnx", new FileInfo(settings.EncoderOnnx
                ?? Path.Combine(Path.GetDirectoryName(onnxPath)!, Path.GetFileNameWithoutExtension(onnxPath) + EncoderSuffix)))!;
            if (string.Equals(encoderPath, onnxPath, StringComparison.Ordinal))
                throw new CliInputException("--encoder-onnx", $"'{encoderPath}' is the --onnx file; give the encoder its own file.");
            var encoderMetadata = new Dictionary<string, string>(metadata);
            foreach (var (key, value) in ObsEncoderOnnxExport.PolicyMetadata(policy!.Config, policy.Normalizers)) encoderMetadata[key] = value;
            encoderFile = (encoderPath, ObsEncoderOnnxExport.Serialize(encoder, encoderMetadata));
        }

        AtomicFile.WriteAllBytes(onnxPath, unet);
        Console.WriteLine($"wrote {onnxPath}: ConditionalUnet1D, ONNX opset {UnetOnnxExport.Opset}, inputs sample (batch, horizon, {network.Config.InputDim}), timestep (batch) int64, global_cond (batch, {network.Config.GlobalCondDim}); output (batch, horizon, {network.Config.InputDim})");
        if (encoderFile is var (path, model))
        {
            AtomicFile.WriteAllBytes(path, model);
            var inputs = string.Join(", ", encoder!.Observations.Select(o => $"{o.Key} (rows, {string.Join(", ", o.Shape)})"));
            Console.WriteLine($"wrote {path}: MultiImageObsEncoder, ONNX opset {ObsEncoderOnnxExport.Opset}, normalised inputs {inputs}; " +
                $"output {ObsEncoderOnnxExport.Output} (rows, {encoder.FeatureDim}); rows = batch × n_obs_steps ({policy!.Config.NObsSteps})");
        }
        return ExitCodes.Done;
    }
}
