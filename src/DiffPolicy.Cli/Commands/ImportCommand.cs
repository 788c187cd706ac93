using System.CommandLine;
using System.Globalization;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy import</c>: a PyTorch ConditionalUnet1D state dict → our checkpoint directory.</summary>
internal sealed class ImportCommand : VerbCommand<ImportCommand.Settings>
{
    public sealed record Settings(string Weights, string Config, string Out, string? Verify = null);

    const double Tolerance = 1e-4;

    readonly Option<FileInfo> weights = CliOptions.InputFile("--weights",
        "State dict of the original ConditionalUnet1D: torch.save(model.state_dict()) file (.pt) or .safetensors.");
    readonly Option<FileInfo> config = CliOptions.InputFile("--config", "JSON with the original's constructor arguments (input_dim, global_cond_dim, down_dims, …).");
    readonly Option<DirectoryInfo?> output = CliOptions.OutputFolder("--out", "Checkpoint directory to write.", required: true);
    readonly Option<FileInfo> verify = CliOptions.InputFile("--verify",
        $"Vectors file (sample, timestep, global_cond, output) from the original code: fail (exit 1) above {Tolerance:0e0} max abs error.", required: false);

    public ImportCommand()
        : base("import", "Convert a PyTorch DiffusionPolicy network (.pt or .safetensors) into a checkpoint (safetensors + JSON config).")
    {
        Add(weights, config, output, verify);
    }

    public override Settings Bind(ParseResult parse) =>
        new(parse.GetValue(weights)!.FullName, parse.GetValue(config)!.FullName, parse.GetValue(output)!.FullName, parse.GetValue(verify)?.FullName);

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var outDir = OutputPaths.Folder("--out", new DirectoryInfo(settings.Out))!;
        var vectors = settings.Verify is { } verify ? CliErrors.Reading("--verify", verify, () => ReferenceVectors.Load(verify)) : null;
        CliErrors.Reading("--config", settings.Config, () => ConditionalUnet1DConfig.Load(settings.Config));
        using (var imported = CliErrors.Reading("--weights", settings.Weights, () => UnetCheckpoint.Import(settings.Weights, settings.Config)))
            UnetCheckpoint.Save(imported, outDir);

        // Verify what was written, not what is in memory.
        using var network = UnetCheckpoint.Load(outDir);
        var table = new Table().AddColumn("item").AddColumn("value");
        table.AddRow("checkpoint", Markup.Escape(outDir));
        table.AddRow("parameters", network.parameters().Sum(p => p.numel()).ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("state-dict keys", network.state_dict().Count.ToString(CultureInfo.InvariantCulture));
        var exit = ExitCodes.Done;
        if (vectors is not null)
        {
            var error = vectors.MaxAbsError(network);
            var ok = error <= Tolerance;
            table.AddRow("max abs error", $"{(ok ? "[green]" : "[red]")}{error:E2}[/] (limit {Tolerance:0e0})");
            exit = ok ? ExitCodes.Done : ExitCodes.Failed;
        }
        AnsiConsole.Write(table);
        return exit;
    }
}
