using System.Text.Json.Nodes;
using DiffPolicy.Policy.Import;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// Importing real-stanford/diffusion_policy workspace checkpoints (tests/fixtures/dp: written and evaluated by the
/// ORIGINAL code through dp_golden; the README says how) and running them: global_cond, the U-Net's ε and the action
/// unnormaliser against the original's outputs; refusals of what is not supported.
/// </summary>
public sealed class DiffusionPolicyImportTests : IDisposable
{
    const double Tolerance = 1e-4;
    readonly string directory = Path.Combine(Path.GetTempPath(), $"dp-import-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }

    [Theory]
    [InlineData("lowdim_pusht")]
    [InlineData("image_pusht")]
    [InlineData("lowdim_ema_k3_noscale_obs3")]
    public void Imported_policy_reproduces_the_original_outputs(string name)
    {
        var index = JsonNode.Parse(File.ReadAllText(Fixtures.Dp($"{name}.golden.json")))!;
        using (var imported = DiffusionPolicyImporter.Read(Fixtures.Dp($"{name}.ckpt")))
        {
            Assert.Equal(index["policy_target"]!.GetValue<string>(), imported.Target);
            Assert.Equal(index["use_ema"]!.GetValue<bool>(), imported.UsedEma);
            Assert.Equal(index["n_obs_steps"]!.GetValue<int>(), imported.Config.NObsSteps);
            Assert.Equal(index["n_action_steps"]!.GetValue<int>(), imported.Config.NActionSteps);
            Assert.Equal(index["num_inference_steps"]!.GetValue<int>(), imported.Config.Scheduler.InferenceSteps);
            imported.Save(directory);
        }

        // What was written, loaded as eval and serve load it.
        using var policy = DiffusionPolicy.Load(directory);
        var errors = GoldenCheck.Run(policy, Fixtures.Dp($"{name}.golden.npz"));
        Assert.True(errors.GlobalCond <= Tolerance, $"global_cond {errors.GlobalCond:E2}");
        Assert.True(errors.Eps <= Tolerance, $"eps {errors.Eps:E2}");
        Assert.True(errors.Action <= Tolerance, $"action {errors.Action:E2}");
    }

    [Fact]
    public void Image_policy_encodes_cameras_then_low_dim_keys_and_samples_a_chunk()
    {
        using (var imported = DiffusionPolicyImporter.Read(Fixtures.Dp("image_pusht.ckpt")))
            imported.Save(directory);
        using var policy = DiffusionPolicy.Load(directory, sampler: new Sampling.SamplerOptions { Method = Sampling.SamplerMethod.Sequential });
        Assert.NotNull(policy.Encoder);
        Assert.Equal(["image"], policy.Encoder!.RgbKeys);
        Assert.Equal(["agent_pos"], policy.Encoder.LowDimKeys);
        Assert.Equal(512 + 2, policy.Config.ObsDim);

        var obs = new Dictionary<string, float[]>
        {
            ["image"] = Enumerable.Range(0, 2 * 3 * 96 * 96).Select(i => (i % 255) / 255f).ToArray(),
            ["agent_pos"] = [0.5f, 1f, 0.6f, 1.1f],
        };
        using var noise = new TorchSharp.torch.Generator(3);
        var chunk = policy.PredictActions(obs, 1, noise);
        Assert.Equal(policy.Config.PredictedSteps * 2, chunk.Actions.Length);
        Assert.All(chunk.Actions, a => Assert.True(float.IsFinite(a)));
        // The encoder runs once per chunk: 100 sequential steps, 100 U-Net evaluations, one encoding.
        Assert.Equal(100, chunk.Stats.Evaluations);
    }

    [Theory]
    [InlineData("transformer_policy.ckpt", "DiffusionTransformerLowdimPolicy, which is not supported")]
    [InlineData("local_cond.ckpt", "obs_as_local_cond is true")]
    [InlineData("resnet50_encoder.ckpt", "rgb_model.name is resnet50; supported: resnet18")]
    [InlineData("env_resolver.ckpt", "resolver 'oc.env'")]
    [InlineData("foreign_global.ckpt", "'posix.system'")]
    [InlineData("missing_key.ckpt", "1 missing keys (first: final_conv.1.bias)")]
    [InlineData("shape_mismatch.ckpt", "17 shape mismatches (first: down_modules.0.0.blocks.0.block.0.weight: file (8, 2, 5) vs config (8, 2, 3))")]
    public void Unsupported_or_broken_checkpoints_are_refused_in_one_line(string file, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => DiffusionPolicyImporter.Read(Fixtures.Dp(Path.Combine("bad", file))).Dispose());
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}
