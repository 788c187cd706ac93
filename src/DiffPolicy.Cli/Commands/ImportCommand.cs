using System.CommandLine;
using System.Globalization;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy import</c>: a PyTorch ConditionalUnet1D state dict → our checkpoint directory.</summary>
internal static class ImportCommand
{
    const double Tolerance = 1e-4;

    public static Command Create()
    {
        var weights = new Option<FileInfo>("--weights")
        {
            Description = "State dict of the original ConditionalUnet1D: torch.save(model.state_dict()) file (.pt) or .safetensors.",
            Required = true,
        };
        var config = new Option<FileInfo>("--config")
        {
            Description = "JSON with the original's constructor arguments (input_dim, global_cond_dim, down_dims, …).",
            Required = true,
        };
        var output = new Option<DirectoryInfo>("--out") { Description = "Checkpoint directory to write.", Required = true };
        var verify = new Option<FileInfo?>("--verify")
        {
            Description = $"Vectors file (sample, timestep, global_cond, output) from the original code: fail above {Tolerance:0e0} max abs error.",
        };
        var command = new Command("import", "Convert a PyTorch DiffusionPolicy network (.pt or .safetensors) into a checkpoint (safetensors + JSON config).")
        {
            weights, config, output, verify,
        };
        command.SetAction(parse =>
        {
            try
            {
                return Run(parse.GetValue(weights)!, parse.GetValue(config)!, parse.GetValue(output)!, parse.GetValue(verify));
            }
            catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]import failed:[/] {e.Message}");
                return 1;
            }
        });
        return command;
    }

    static int Run(FileInfo weights, FileInfo config, DirectoryInfo output, FileInfo? verify)
    {
        var vectors = verify is null ? null : ReferenceVectors.Load(verify.FullName);
        using (var imported = UnetCheckpoint.Import(weights.FullName, config.FullName))
            UnetCheckpoint.Save(imported, output.FullName);

        // Verify what was written, not what is in memory.
        using var network = UnetCheckpoint.Load(output.FullName);
        var table = new Table().AddColumn("item").AddColumn("value");
        table.AddRow("checkpoint", Markup.Escape(output.FullName));
        table.AddRow("parameters", network.parameters().Sum(p => p.numel()).ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("state-dict keys", network.state_dict().Count.ToString(CultureInfo.InvariantCulture));
        int exit = 0;
        if (vectors is not null)
        {
            double error = vectors.MaxAbsError(network);
            bool ok = error <= Tolerance;
            table.AddRow("max abs error", $"{(ok ? "[green]" : "[red]")}{error:E2}[/] (limit {Tolerance:0e0})");
            exit = ok ? 0 : 1;
        }
        AnsiConsole.Write(table);
        return exit;
    }
}
