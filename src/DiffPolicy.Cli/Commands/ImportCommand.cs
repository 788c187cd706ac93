using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffPolicy.Data;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Import;
using DiffPolicy.Policy.Network;
using Spectre.Console;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// <c>diffpolicy import</c>: a real-stanford/diffusion_policy workspace checkpoint (<c>--from-diffusion-policy</c>,
/// docs/import.md), or a bare PyTorch ConditionalUnet1D state dict (<c>--weights</c> + <c>--config</c>), → this project's
/// checkpoint directory.
/// </summary>
internal sealed class ImportCommand : VerbCommand<ImportCommand.Settings>
{
    /// <param name="From">A diffusion_policy workspace .ckpt; or null, with <paramref name="Weights"/> and <paramref name="Config"/>.</param>
    /// <param name="Verify">Golden .npz (dp_golden) with <paramref name="From"/>, a vectors JSON with <paramref name="Weights"/>.</param>
    /// <param name="Json">The import report (with <paramref name="From"/>).</param>
    public sealed record Settings(string? Weights, string? Config, string Out, string? Verify = null, string? From = null, string? Json = null);

    public const double Tolerance = 1e-4;

    readonly Option<FileInfo> from = CliOptions.InputFile("--from-diffusion-policy",
        "A real-stanford/diffusion_policy workspace checkpoint (.ckpt): DiffusionUnetLowdimPolicy or DiffusionUnetImagePolicy. Read without Python (docs/import.md).", required: false);
    readonly Option<FileInfo> weights = CliOptions.InputFile("--weights",
        "State dict of a bare ConditionalUnet1D: torch.save(model.state_dict()) file (.pt) or .safetensors (with --config).", required: false);
    readonly Option<FileInfo> config = CliOptions.InputFile("--config", "JSON with the bare network's constructor arguments (input_dim, global_cond_dim, down_dims, …).", required: false);
    readonly Option<DirectoryInfo?> output = CliOptions.OutputFolder("--out", "Checkpoint directory to write (atomically; untouched on bad input).", required: true);
    readonly Option<FileInfo> verify = CliOptions.InputFile("--verify",
        $"The original code's outputs: GOLDEN.npz (dp_golden) with --from-diffusion-policy, a vectors JSON with --weights. Above {Tolerance:0e0} max abs error: exit 1, nothing written.", required: false);
    readonly Option<FileInfo?> json = CliOptions.OutputFile("--json", "With --from-diffusion-policy: the import report as JSON (errors, policy _target_, used_ema), written atomically.");

    public ImportCommand()
        : base("import", "Convert a diffusion_policy workspace checkpoint (.ckpt) or a PyTorch ConditionalUnet1D into a checkpoint directory.")
    {
        Add(from, weights, config, output, verify, json);
    }

    public override Settings Bind(ParseResult parse) => new(
        parse.GetValue(weights)?.FullName, parse.GetValue(config)?.FullName, parse.GetValue(output)!.FullName, parse.GetValue(verify)?.FullName,
        parse.GetValue(from)?.FullName, parse.GetValue(json)?.FullName);

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.From is not null)
        {
            if (settings.Weights is not null || settings.Config is not null)
                throw new CliInputException("--from-diffusion-policy", "reads the whole workspace checkpoint; drop --weights and --config.");
            return RunWorkspace(settings);
        }
        if (settings.Weights is null) throw new CliInputException("--weights", "give --from-diffusion-policy FILE.ckpt, or --weights and --config for a bare network.");
        if (settings.Config is null) throw new CliInputException("--config", "--weights needs --config (the network's constructor arguments).");
        if (settings.Json is not null) throw new CliInputException("--json", "goes with --from-diffusion-policy.");
        return RunNetwork(settings.Weights, settings.Config, settings.Out, settings.Verify);
    }

    static int RunWorkspace(Settings settings)
    {
        var source = settings.From!;
        var outDir = OutputPaths.Folder("--out", new DirectoryInfo(settings.Out))!;
        var report = OutputPaths.File("--json", settings.Json is null ? null : new FileInfo(settings.Json));
        using var imported = CliErrors.Reading("--from-diffusion-policy", source, () => DiffusionPolicyImporter.Read(source));

        // Written into a staging folder, checked from the files there, and swapped in only when the check passes.
        GoldenErrors? errors = null;
        var failed = false;
        try
        {
            AtomicDirectory.Write(outDir, staging =>
            {
                var written = Path.Combine(staging, "policy");
                imported.Save(written);
                if (settings.Verify is { } golden)
                {
                    using var policy = DiffusionPolicy.Load(written);
                    errors = CliErrors.Reading("--verify", golden, () => GoldenCheck.Run(policy, golden));
                    failed = !errors.Within(Tolerance);
                    if (failed) throw new VerificationFailedException();
                }
                foreach (var file in Directory.GetFiles(written)) File.Move(file, Path.Combine(staging, Path.GetFileName(file)));
                Directory.Delete(written);
            });
        }
        catch (VerificationFailedException)
        {
        }

        var table = new Table().AddColumn("item").AddColumn("value");
        table.AddRow("policy", Markup.Escape(imported.Target));
        table.AddRow("weights", imported.UsedEma ? "ema_model" : "model (no EMA in the file)");
        table.AddRow("observations", Markup.Escape(string.Join(", ", imported.Config.Inputs.Select(o => $"{o.Key} [{string.Join("×", o.Shape)}] {o.Type}"))));
        table.AddRow("horizon / n_obs_steps / n_action_steps", $"{imported.Config.Horizon} / {imported.Config.NObsSteps} / {imported.Config.NActionSteps}");
        var parameters = imported.Network.parameters().Sum(p => p.numel()) + (imported.Encoder?.parameters().Sum(p => p.numel()) ?? 0);
        table.AddRow("parameters", parameters.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("checkpoint", failed ? "[red]not written[/]" : Markup.Escape(outDir));
        if (errors is not null)
        {
            static string Show(double e) => $"{(e <= Tolerance ? "[green]" : "[red]")}{e:E2}[/]";
            table.AddRow("global_cond max abs error", Show(errors.GlobalCond));
            table.AddRow("eps max abs error", Show(errors.Eps));
            table.AddRow("action max abs error", Show(errors.Action));
        }
        AnsiConsole.Write(table);

        if (report is not null)
        {
            var fields = new Dictionary<string, object?>
            {
                ["global_cond_max_abs_error"] = errors?.GlobalCond,
                ["eps_max_abs_error"] = errors?.Eps,
                ["action_max_abs_error"] = errors?.Action,
                ["policy"] = imported.Target,
                ["used_ema"] = imported.UsedEma,
                ["written"] = !failed,
            };
            AtomicFile.WriteAllText(report, JsonSerializer.Serialize(fields, new JsonSerializerOptions { WriteIndented = true }));
        }
        // Failed at run time (exit 1): the file was read, but does not compute what the original computed.
        return failed
            ? throw new InvalidOperationException($"'{source}' does not reproduce '{settings.Verify}' within {Tolerance:0e0}; nothing written to '{outDir}'.")
            : ExitCodes.Done;
    }

    sealed class VerificationFailedException : Exception;

    static int RunNetwork(string weights, string config, string output, string? verify)
    {
        var outDir = OutputPaths.Folder("--out", new DirectoryInfo(output))!;
        var vectors = verify is not null ? CliErrors.Reading("--verify", verify, () => ReferenceVectors.Load(verify)) : null;
        CliErrors.Reading("--config", config, () => ConditionalUnet1DConfig.Load(config));
        using (var imported = CliErrors.Reading("--weights", weights, () => UnetCheckpoint.Import(weights, config)))
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
