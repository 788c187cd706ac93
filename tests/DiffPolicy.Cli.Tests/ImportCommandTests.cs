using System.Text.Json.Nodes;
using DiffPolicy.Cli.Commands;
using DiffPolicy.Data;
using DiffPolicy.Policy;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// <c>diffpolicy import --from-diffusion-policy</c> on the upstream fixtures (tests/fixtures/dp, written and evaluated by
/// the original code): exit codes, the JSON report, and that bad input or a failed check leaves --out untouched.
/// </summary>
public sealed class ImportCommandTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("dp-import-cli-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static string Dp(string file) => Fixtures.Dp(file);

    string Out => Path.Combine(root, "out");

    string Report => Path.Combine(root, "report.json");

    /// <summary>Runs the CLI in this process; the exit code, and stderr's lines.</summary>
    (int Exit, string[] Errors) Import(string ckpt, string? golden = null)
    {
        var args = new List<string> { "import", "--from-diffusion-policy", ckpt, "--out", Out, "--json", Report };
        if (golden is not null) args.AddRange(["--verify", golden]);
        using var error = new StringWriter();
        var exit = CliApp.Run([.. args], error);
        return (exit, error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Image_checkpoint_imports_verifies_and_reports()
    {
        Assert.Equal((0, []), Import(Dp("image_pusht.ckpt"), Dp("image_pusht.golden.npz")));

        var report = JsonNode.Parse(File.ReadAllText(Report))!;
        Assert.True(report["global_cond_max_abs_error"]!.GetValue<double>() <= ImportCommand.Tolerance);
        Assert.True(report["eps_max_abs_error"]!.GetValue<double>() <= ImportCommand.Tolerance);
        Assert.Equal("diffusion_policy.policy.diffusion_unet_image_policy.DiffusionUnetImagePolicy", report["policy"]!.GetValue<string>());
        Assert.False(report["used_ema"]!.GetValue<bool>());
        using var policy = DiffusionPolicy.Load(Out);
        Assert.Equal(["agent_pos", "image"], policy.Config.Inputs.Select(o => o.Key).Order());
        Assert.Equal(["out", "report.json"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Ema_weights_are_the_ones_imported()
    {
        Assert.Equal(0, Import(Dp("lowdim_ema_k3_noscale_obs3.ckpt"), Dp("lowdim_ema_k3_noscale_obs3.golden.npz")).Exit);
        var report = JsonNode.Parse(File.ReadAllText(Report))!;
        Assert.True(report["used_ema"]!.GetValue<bool>());
        Assert.True(report["eps_max_abs_error"]!.GetValue<double>() <= ImportCommand.Tolerance);
    }

    [Theory]
    [InlineData("bad/transformer_policy.ckpt")]
    [InlineData("bad/foreign_global.ckpt")]
    [InlineData("bad/missing_key.ckpt")]
    [InlineData("bad/shape_mismatch.ckpt")]
    public void Bad_checkpoints_exit_2_and_leave_out_untouched(string file)
    {
        Directory.CreateDirectory(Out);
        File.WriteAllText(Path.Combine(Out, "earlier.txt"), "kept");

        var (exit, errors) = Import(Dp(file));
        Assert.Equal(2, exit);
        var line = Assert.Single(errors);
        Assert.StartsWith("diffpolicy import: --from-diffusion-policy: ", line, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(file), line, StringComparison.Ordinal);
        Assert.Equal(["earlier.txt"], Directory.GetFiles(Out).Select(Path.GetFileName));
        Assert.Equal(["out"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));
    }

    [Fact]
    public void A_failed_check_exits_1_and_writes_no_checkpoint()
    {
        // The original's golden arrays with eps moved by 1e-3: the import can no longer reproduce them.
        var arrays = Npz.Load(Dp("lowdim_pusht.golden.npz"));
        var eps = arrays["eps"].ToFloat32().Select(v => v + 1e-3f).ToArray();
        arrays["eps"] = new NpyArray(eps, [.. arrays["eps"].Shape]);
        var golden = Path.Combine(root, "shifted.golden.npz");
        Npz.Save(golden, arrays);

        var (exit, errors) = Import(Dp("lowdim_pusht.ckpt"), golden);
        Assert.Equal(1, exit);
        Assert.Contains("nothing written", Assert.Single(errors), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Out));
        Assert.False(Directory.Exists(Out + ".tmp"));
        var report = JsonNode.Parse(File.ReadAllText(Report))!;
        Assert.False(report["written"]!.GetValue<bool>());
        Assert.InRange(report["eps_max_abs_error"]!.GetValue<double>(), 0.9e-3, 1.1e-3);
    }

    [Theory]
    [InlineData("--from-diffusion-policy {ckpt} --weights {ckpt} --out {out}", "--from-diffusion-policy")]
    [InlineData("--out {out}", "--weights")]
    [InlineData("--weights {ckpt} --out {out}", "--config")]
    [InlineData("--from-diffusion-policy {root}/absent.ckpt --out {out}", "--from-diffusion-policy")]
    [InlineData("--from-diffusion-policy {golden} --out {out}", "--from-diffusion-policy")]
    public void Options_that_do_not_go_together_exit_2(string arguments, string named)
    {
        var args = arguments.Replace("{ckpt}", Dp("lowdim_pusht.ckpt"), StringComparison.Ordinal).Replace("{out}", Out, StringComparison.Ordinal)
            .Replace("{root}", root, StringComparison.Ordinal).Replace("{golden}", Dp("lowdim_pusht.golden.npz"), StringComparison.Ordinal).Split(' ');
        using var error = new StringWriter();
        Assert.Equal(2, CliApp.Run(["import", .. args], error));
        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Out));
    }
}
