using System.CommandLine;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Export;
using DiffPolicy.Policy.Network;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy export --onnx FILE</c>: the noise-prediction network as an ONNX model (docs/onnx.md).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<DirectoryInfo>("--checkpoint")
        {
            Description = "A policy checkpoint (policy.json) or a network checkpoint from `import` (unet.config.json).",
            DefaultValueFactory = _ => new DirectoryInfo(PolicyOptions.DefaultCheckpoint),
        };
        var onnx = new Option<FileInfo?>("--onnx") { Description = "Write the noise-prediction network here as ONNX (opset 17, dynamic batch and horizon)." };
        var command = new Command("export", "Export the checkpoint's noise-prediction network for other runtimes (ONNX Runtime, TensorRT, Python).")
        {
            checkpoint, onnx,
        };
        command.SetAction(parse => Run(new Settings(parse.GetValue(checkpoint)!.FullName, parse.GetValue(onnx)?.FullName)));
        return command;
    }

    internal sealed record Settings(string Checkpoint, string? Onnx);

    /// <returns>0 written, 2 bad input (the message names the option or file at fault), 1 failed while writing.</returns>
    internal static int Run(Settings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Onnx is null)
        {
            Console.Error.WriteLine("export: nothing to export: pass --onnx FILE.");
            return 2;
        }
        string? folder = Path.GetDirectoryName(Path.GetFullPath(settings.Onnx));
        if (folder is not null && !Directory.Exists(folder))
        {
            Console.Error.WriteLine($"export: --onnx: the folder '{folder}' does not exist.");
            return 2;
        }
        ConditionalUnet1D network;
        try
        {
            if (!Directory.Exists(settings.Checkpoint)) throw new DirectoryNotFoundException($"--checkpoint: no directory '{settings.Checkpoint}'.");
            network = File.Exists(Path.Combine(settings.Checkpoint, PolicyCheckpoint.ConfigFile))
                ? PolicyCheckpoint.Load(settings.Checkpoint).Network
                : UnetCheckpoint.Load(settings.Checkpoint);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException or FormatException)
        {
            Console.Error.WriteLine($"export: {e.Message}");
            return 2;
        }
        using (network)
        {
            try
            {
                UnetOnnxExport.Write(network, settings.Onnx, new Dictionary<string, string> { ["checkpoint"] = settings.Checkpoint });
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"export: --onnx '{settings.Onnx}': {e.Message}");
                return 1;
            }
        }
        Console.WriteLine($"wrote {settings.Onnx}: ConditionalUnet1D, ONNX opset {UnetOnnxExport.Opset}, inputs sample (batch, horizon, {network.Config.InputDim}), timestep (batch) int64, global_cond (batch, {network.Config.GlobalCondDim}); output (batch, horizon, {network.Config.InputDim})");
        return 0;
    }
}
