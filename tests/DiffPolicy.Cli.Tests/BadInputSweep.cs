using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DiffPolicy.Data;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Training;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Tests;

/// <summary>
/// The files the bad-input sweep points the CLI at: a tiny valid checkpoint and damaged copies of it, demonstrations
/// and damaged ones, a training config, a trained run directory and a damaged one, replay inputs, and an output
/// folder holding one sentinel file. <see cref="Expand"/> turns <c>{name}</c> placeholders into their paths.
/// </summary>
public sealed class BadInputSweep : IDisposable
{
    readonly TinyCheckpoint checkpoint = new(), notPushT = new(obsDim: 20);
    readonly Dictionary<string, string> paths = new(StringComparer.Ordinal);

    public BadInputSweep()
    {
        Root = Directory.CreateTempSubdirectory("sweep-").FullName;
        paths["ckpt"] = checkpoint.Directory;
        paths["ckpt-not-pusht"] = notPushT.Directory;
        paths["file"] = Write("plain.txt", "not an output");
        paths["dir"] = Directory.CreateDirectory(Path.Combine(Root, "folder")).FullName;
        paths["out"] = Directory.CreateDirectory(Path.Combine(Root, "out")).FullName;
        paths["sentinel"] = Write("out/sentinel.json", "{\"sentinel\": true}");
        paths["missing"] = Path.Combine(Root, "does-not-exist");
        paths["dp-src"] = Directory.CreateDirectory(Path.Combine(Root, "dp_src")).FullName;
        Write("dp_src/diffusion_policy/model/diffusion/conditional_unet1d.py", "# stands in for the original file: only its presence is checked before work\n");

        Checkpoints();
        Demonstrations();
        Runs();
        Replays();
    }

    public string Root { get; }

    public void Dispose()
    {
        checkpoint.Dispose();
        notPushT.Dispose();
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>Arguments with every <c>{name}</c> replaced by its path.</summary>
    public string Expand(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var (name, path) in paths) text = text.Replace("{" + name + "}", path, StringComparison.Ordinal);
        return text;
    }

    /// <summary>Every file under the sweep's folders (and the checkpoint's) with its SHA-256: what must not change.</summary>
    public Dictionary<string, string> Snapshot() =>
        new[] { Root, Path.GetDirectoryName(checkpoint.Directory)!, Path.GetDirectoryName(notPushT.Directory)! }
            .SelectMany(dir => Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories))
            .ToDictionary(p => p, p => File.Exists(p) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))) : "folder");

    string Write(string relative, string content)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    string CopyCheckpoint(string name)
    {
        var target = Path.Combine(Root, "checkpoints", name);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(checkpoint.Directory)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        paths[name] = target;
        return target;
    }

    void EditWeights(string name, Action<Dictionary<string, Tensor>> edit)
    {
        var weights = Path.Combine(CopyCheckpoint(name), PolicyCheckpoint.WeightsFile);
        var tensors = StateDictFile.Read(weights);
        edit(tensors);
        StateDictFile.WriteSafetensors(weights, tensors);
        foreach (var t in tensors.Values) t.Dispose();
    }

    void EditConfig(string name, Action<JsonObject> edit)
    {
        var config = Path.Combine(CopyCheckpoint(name), PolicyCheckpoint.ConfigFile);
        var json = JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        edit(json);
        File.WriteAllText(config, json.ToJsonString());
    }

    void Checkpoints()
    {
        EditWeights("ckpt-transposed", t =>
        {
            var key = t.First(e => e.Value.dim() >= 2 && e.Value.shape[0] != e.Value.shape[1]).Key;
            t[key] = t[key].transpose(0, 1).contiguous();
        });
        EditWeights("ckpt-missing-key", t => t.Remove(t.Keys.First()));
        EditWeights("ckpt-extra-key", t => t["extra.weight"] = zeros(3));
        EditConfig("ckpt-down-dims", j => j["model"]!["down_dims"] = new JsonArray(16, 48));
        EditConfig("ckpt-obs-dim", j =>
        {
            j["obs_dim"] = 20;
            j["model"]!["global_cond_dim"] = 40;
        });
        EditConfig("ckpt-inconsistent", j => j["obs_dim"] = 20);
        File.WriteAllText(Path.Combine(CopyCheckpoint("ckpt-empty-config"), PolicyCheckpoint.ConfigFile), "");
        File.Delete(Path.Combine(CopyCheckpoint("ckpt-no-normalizer"), PolicyCheckpoint.NormalizerFile));
        File.WriteAllText(Path.Combine(CopyCheckpoint("ckpt-garbage-weights"), PolicyCheckpoint.WeightsFile), "garbage");
    }

    internal static PolicyConfig TrainConfig(int steps = 4) => new()
    {
        ObsKey = "obs",
        ObsDim = 4,
        ActionDim = 2,
        Horizon = 8,
        NObsSteps = 2,
        NActionSteps = 4,
        Model = new ConditionalUnet1DConfig { InputDim = 2, GlobalCondDim = 8, DiffusionStepEmbedDim = 16, DownDims = [16, 32], KernelSize = 3 },
        Sampler = new Policy.Sampling.SamplerOptions { Window = 4 },
        Training = new TrainingConfig { BatchSize = 16, Steps = steps, WarmupSteps = 1, SaveEvery = 4, ValEvery = 4, ValRatio = 0.2 },
    };

    /// <summary>Five short episodes of a 4-value observation and a 2-value action (a smooth orbit), as a buffer's arrays.</summary>
    internal static Dictionary<string, NpyArray> DemonstrationArrays(float shift = 0, int obsWidth = 4)
    {
        int[] lengths = [30, 25, 40, 35, 30];
        var steps = lengths.Sum();
        var obs = new float[steps * obsWidth];
        var action = new float[steps * 2];
        var ends = new long[lengths.Length];
        var row = 0;
        for (var e = 0; e < lengths.Length; e++)
        {
            for (var t = 0; t < lengths[e]; t++, row++)
            {
                var phase = 0.2 * t + e;
                for (var k = 0; k < obsWidth; k++) obs[row * obsWidth + k] = (float)(100 + 50 * Math.Cos(phase + k)) + shift;
                action[row * 2] = (float)(100 + 50 * Math.Cos(phase + 0.2));
                action[row * 2 + 1] = (float)(200 + 30 * Math.Sin(phase + 0.2));
            }
            ends[e] = row;
        }
        return new Dictionary<string, NpyArray>
        {
            ["obs"] = new(obs, steps, obsWidth),
            ["action"] = new(action, steps, 2),
            ["episode_ends"] = new(ends, lengths.Length),
        };
    }

    void Demonstrations()
    {
        paths["config"] = Write("train/config.json", TrainConfig().ToJson());
        paths["config-garbage"] = Write("train/garbage.json", "{ \"obs_dim\": ");
        paths["config-unknown-key"] = Write("train/unknown.json", TrainConfig().ToJson().Replace("\"horizon\"", "\"horizzon\"", StringComparison.Ordinal));
        paths["data"] = Path.Combine(Root, "train", "demos.npz");
        Npz.Save(paths["data"], DemonstrationArrays());
        paths["data-shifted"] = Path.Combine(Root, "train", "shifted.npz");
        Npz.Save(paths["data-shifted"], DemonstrationArrays(shift: 0.5f));
        paths["data-wide"] = Path.Combine(Root, "train", "wide.npz");
        Npz.Save(paths["data-wide"], DemonstrationArrays(obsWidth: 5));
        var noAction = DemonstrationArrays();
        noAction.Remove("action");
        paths["data-no-action"] = Path.Combine(Root, "train", "no-action.npz");
        Npz.Save(paths["data-no-action"], noAction);
        var noEnds = DemonstrationArrays();
        noEnds.Remove("episode_ends");
        paths["data-no-ends"] = Path.Combine(Root, "train", "no-ends.npz");
        Npz.Save(paths["data-no-ends"], noEnds);
        paths["data-text"] = Write("train/text.npz", "this is not a zip archive");
        paths["data-hostile"] = Path.Combine(Root, "train", "hostile.npz");
        using (var zip = System.IO.Compression.ZipFile.Open(paths["data-hostile"], System.IO.Compression.ZipArchiveMode.Create))
        using (var stream = zip.CreateEntry("action.npy").Open())
        {
            var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 2), }\n";
            stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0]);
            stream.Write(System.Text.Encoding.ASCII.GetBytes(header));
        }
    }

    void Runs()
    {
        paths["run"] = Path.Combine(Root, "runs", "run");
        manual_seed(5);
        new TrainingRun(TrainConfig(), ReplayBuffer.Load(paths["data"]), paths["run"]).Run();
        foreach (var (name, content) in new[] { ("run-empty-progress", ""), ("run-cut-progress", "{\"Step\": 4, \"Elapsed") })
        {
            var target = Path.Combine(Root, "runs", name);
            foreach (var file in Directory.GetFiles(paths["run"], "*", SearchOption.AllDirectories))
            {
                var copy = Path.Combine(target, Path.GetRelativePath(paths["run"], file));
                Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                File.Copy(file, copy);
            }
            File.WriteAllText(Path.Combine(target, "state", "progress.json"), content);
            paths[name] = target;
        }
    }

    void Replays()
    {
        paths["replay-not-json"] = Write("replay/not-json.json", "[{\"seed\": 1,");
        paths["replay-object"] = Write("replay/object.json", "{\"seed\": 1}");
        paths["replay-no-actions"] = Write("replay/no-actions.json", "[{\"seed\": 1}]");
        paths["replay-short-state"] = Write("replay/short-state.json", "[{\"initial_state\": [1, 2, 3], \"actions\": [[1, 2]]}]");
        paths["replay-bad-action"] = Write("replay/bad-action.json", "[{\"seed\": 1, \"actions\": [[1, 2, 3]]}]");
        paths["replay-huge-seed"] = Write("replay/huge-seed.json", "[{\"seed\": 99999999999, \"actions\": [[1, 2]]}]");
        paths["replay-huge-action"] = Write("replay/huge-action.json", "[{\"seed\": 1, \"actions\": [[1e308, -1e308]]}]");
        paths["replay"] = Write("replay/good.json", "[{\"seed\": 1, \"actions\": [[100, 100], [120, 110]]}]");
    }
}
