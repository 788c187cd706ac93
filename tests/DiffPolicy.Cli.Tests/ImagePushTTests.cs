using System.Text.Json;
using DiffPolicy.Cli.Commands;
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
    public void Export_writes_the_unet_and_the_observation_encoder_beside_it_or_where_asked()
    {
        int Export(string onnx, string? encoder, out string error)
        {
            using var writer = new StringWriter();
            var code = CliErrors.Run("export", writer, () => new ExportCommand().Run(new ExportCommand.Settings(policy.Directory, onnx, encoder)));
            error = writer.ToString();
            return code;
        }

        var unet = Path.Combine(root, "unet.onnx");
        Assert.Equal(0, Export(unet, null, out var error));
        var beside = Path.Combine(root, "unet" + ExportCommand.EncoderSuffix);
        foreach (var file in new[] { unet, beside })
        {
            var bytes = File.ReadAllBytes(file);
            Assert.Equal([0x08, 8], bytes[..2]);   // ModelProto field 1 (ir_version) = 8
            Assert.False(File.Exists(file + ".tmp"));
        }
        // The ResNet-18's 11.2 M float32 weights are in the encoder's file.
        Assert.InRange(new FileInfo(beside).Length, 44_000_000, 50_000_000);

        var elsewhere = Path.Combine(root, "cameras", "encoder.onnx");
        Assert.Equal(0, Export(unet, elsewhere, out error));
        Assert.Equal(File.ReadAllBytes(beside), File.ReadAllBytes(elsewhere));

        Assert.Equal(2, Export(unet, unet, out error));
        Assert.Contains("--encoder-onnx", error, StringComparison.Ordinal);
        Assert.Equal(2, Export(unet, root, out error));   // a folder
        Assert.Contains("--encoder-onnx", error, StringComparison.Ordinal);
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

    [Fact]
    public void Bench_encoder_times_the_checkpoints_encoder_and_the_random_ones_next_to_its_chunk()
    {
        var report = Path.Combine(root, "encoder.json");
        var (exit, errors) = Run("bench", "encoder", "--checkpoint", policy.Directory, "--chunks", "1", "--warmup", "0", "--json", report);
        Assert.True(exit == 0, errors);
        var rows = JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("measurements").EnumerateArray().ToList();
        // The whole chunk and the checkpoint's own encoder (its 1 camera), then 1 and 2 random cameras at each of two sizes.
        Assert.Equal([1, 1, 1, 2, 1, 2], rows.Select(r => r.GetProperty("cameras").GetInt32()));
        Assert.Equal(0, rows[0].GetProperty("frames").GetInt32());
        Assert.Equal("96×96", rows[1].GetProperty("size").GetString());
        foreach (var row in rows.Skip(1))
        {
            var frames = row.GetProperty("frames").GetInt32();
            Assert.Equal(2 * row.GetProperty("cameras").GetInt32(), frames);   // n_obs_steps 2 frames per camera, once per chunk
            Assert.Equal(row.GetProperty("median_ms").GetDouble() / frames, row.GetProperty("ms_per_frame").GetDouble(), 9);
            Assert.InRange(row.GetProperty("share_of_chunk").GetDouble(), 1e-6, 1);
            Assert.InRange(row.GetProperty("cpu_share_of_chunk").GetDouble(), 1e-6, 1);
        }
    }

    /// <summary>
    /// configs/pusht_image.json made small for a CPU test: frames resized to 48×48 and cropped to 40×40 (the dataset keeps
    /// 96×96), a small U-Net, batch 8, and a learning rate of 1e-2 so that 24 steps show.
    /// </summary>
    static string SmallImageConfig(string directory, int steps)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "configs", "pusht_image.json")))!;
        json["horizon"] = 8;
        json["n_action_steps"] = 4;
        json["obs_encoder"]!["resize_shape"] = new System.Text.Json.Nodes.JsonObject { ["image"] = new System.Text.Json.Nodes.JsonArray(48, 48) };
        json["obs_encoder"]!["crop_shape"] = new System.Text.Json.Nodes.JsonObject { ["image"] = new System.Text.Json.Nodes.JsonArray(40, 40) };
        json["model"]!["diffusion_step_embed_dim"] = 16;
        json["model"]!["down_dims"] = new System.Text.Json.Nodes.JsonArray(16, 32);
        json["model"]!["kernel_size"] = 3;
        json["sampler"]!["window"] = 4;
        json["sampler"]!["workers"] = 1;
        var training = json["training"]!;
        training["batch_size"] = 8;
        training["learning_rate"] = 1e-2;
        training["warmup_steps"] = 0;
        training["steps"] = steps;
        training["val_ratio"] = 0;
        var path = Path.Combine(directory, $"pusht_image_{steps}.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    [Fact]
    public void Expert_demonstrations_with_images_train_an_image_policy_whose_loss_falls_and_which_eval_runs()
    {
        var demo = Path.Combine(root, "demo.npz");
        var (exit, errors) = Run("pusht", "collect", "--episodes", "3", "--images", "--out", demo);
        Assert.True(exit == 0, errors);

        // The validation loss at the end of a run (the EMA policy on the same windows with the same noise) after 1 step and
        // after 24 from the same seed: the only difference is the training in between.
        double FinalValidationLoss(int steps)
        {
            var run = Path.Combine(root, $"run{steps}");
            var (code, stderr) = Run("train", "--config", SmallImageConfig(root, steps), "--data", demo, "--out", run, "--threads", "2");
            Assert.True(code == 0, stderr);
            var last = File.ReadAllLines(Path.Combine(run, "log.csv"))[^1].Split(',');
            Assert.Equal(steps.ToString(System.Globalization.CultureInfo.InvariantCulture), last[0]);
            return double.Parse(last[3], System.Globalization.CultureInfo.InvariantCulture);
        }
        double before = FinalValidationLoss(1), after = FinalValidationLoss(24);
        Assert.True(after < 0.85 * before, $"validation loss {before:F3} after 1 step, {after:F3} after 24");

        // Not resumable: the same --out again is refused before any work.
        var again = Run("train", "--config", SmallImageConfig(root, 24), "--data", demo, "--out", Path.Combine(root, "run24"));
        Assert.Equal(2, again.Exit);
        Assert.Contains("--out", again.Errors);

        var report = Path.Combine(root, "trained.json");
        (exit, errors) = Run("eval", "--checkpoint", Path.Combine(root, "run24", "policy"), "--episodes", "1", "--max-steps", "12", "--steps", "5",
            "--sampler", "sequential", "--transport", "direct", "--json", report);
        Assert.True(exit == 0, errors);
        Assert.Equal(12, JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("per_episode")[0].GetProperty("steps").GetInt32());
    }
}
