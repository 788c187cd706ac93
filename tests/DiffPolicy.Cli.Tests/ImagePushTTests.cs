using System.Text.Json;
using DiffPolicy.Policy.Import;

namespace DiffPolicy.Cli.Tests;

/// <summary>diffusion_policy's image_pusht fixture (random weights), imported once for the tests of this class.</summary>
public sealed class ImportedImagePolicy : IDisposable
{
    readonly string root = System.IO.Directory.CreateTempSubdirectory("dp-image-pusht-").FullName;

    public ImportedImagePolicy()
    {
        using var imported = DiffusionPolicyImporter.Read(Fixtures.Dp("image_pusht.ckpt"));
        imported.Save(Directory);
    }

    public string Directory => Path.Combine(root, "policy");

    public void Dispose() => System.IO.Directory.Delete(root, recursive: true);
}

/// <summary>
/// PushT with camera observations (PushTImageEnv's image + agent_pos) through the CLI's verbs, with the imported upstream
/// image checkpoint. Its weights are random, so scores mean nothing: these tests check that the episodes run end to end
/// and that the transports agree.
/// </summary>
public sealed class ImagePushTTests(ImportedImagePolicy policy) : IClassFixture<ImportedImagePolicy>, IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("image-pusht-cli-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    (int Exit, string Errors) Run(params string[] args)
    {
        using var error = new StringWriter();
        var exit = CliApp.Run(args, error);
        return (exit, error.ToString());
    }

    [Fact]
    public void Eval_runs_an_image_checkpoint_in_process_and_over_zeromq_with_the_same_actions()
    {
        var reports = new List<JsonElement>();
        foreach (var transport in new[] { "direct", "inproc" })
        {
            var report = Path.Combine(root, $"{transport}.json");
            var (exit, errors) = Run("eval", "--checkpoint", policy.Directory, "--episodes", "1", "--max-steps", "20", "--steps", "5",
                "--sampler", "sequential", "--transport", transport, "--json", report);
            Assert.True(exit == 0, errors);
            reports.Add(JsonDocument.Parse(File.ReadAllText(report)).RootElement);
        }
        foreach (var report in reports)
        {
            var episode = Assert.Single(report.GetProperty("per_episode").EnumerateArray());
            Assert.Equal(20, episode.GetProperty("steps").GetInt32());
            Assert.Equal(3, episode.GetProperty("chunks").GetInt32());
        }
        // Same noise per episode on both paths: the same actions, hence the same jerk.
        Assert.Equal(reports[0].GetProperty("intra_jerk_p95").GetDouble(), reports[1].GetProperty("intra_jerk_p95").GetDouble());
        Assert.Equal(reports[0].GetProperty("seam_jerk_p95").GetDouble(), reports[1].GetProperty("seam_jerk_p95").GetDouble());
    }
}
