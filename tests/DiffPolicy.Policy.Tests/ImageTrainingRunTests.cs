using System.Globalization;
using DiffPolicy.Data;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Training;
using DiffPolicy.Policy.Vision;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// Training a small image policy (ResNet-18 per camera on 24×24 frames cropped to 20×20, a small U-Net) writes a policy
/// that loads and acts on camera frames; data that does not fit is refused.
/// </summary>
/// <remarks>Training seeds and draws from libtorch's global generator: alone, like the other tests that do.</remarks>
[Collection(nameof(GlobalGeneratorTests))]
public sealed class ImageTrainingRunTests : IDisposable
{
    const int Size = 24;

    readonly string root = Directory.CreateTempSubdirectory("train-image-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static PolicyConfig Config(int steps) => new()
    {
        Task = "pusht_image",
        ObsKey = "obs",
        ObsDim = ResNet18.FeatureDim + 2,
        ActionDim = 2,
        Horizon = 8,
        NObsSteps = 2,
        NActionSteps = 4,
        Observations = [new("image", [3, Size, Size], ObservationSpec.Rgb), new("agent_pos", [2], ObservationSpec.LowDim)],
        ObsEncoder = new ObsEncoderConfig { CropShape = new Dictionary<string, int[]> { ["image"] = [20, 20] }, ImagenetNorm = true },
        Model = new ConditionalUnet1DConfig { InputDim = 2, GlobalCondDim = 2 * (ResNet18.FeatureDim + 2), DiffusionStepEmbedDim = 16, DownDims = [16, 32], KernelSize = 3 },
        Sampler = new Sampling.SamplerOptions { Window = 4 },
        Training = new TrainingConfig { BatchSize = 8, LearningRate = 1e-2, WarmupSteps = 0, Steps = steps, SaveEvery = 1000, ValEvery = 1000, ValRatio = 0, Seed = 3 },
    };

    /// <summary>
    /// PushT-like demonstrations in the layout `pusht collect --images` writes: a dark disc on a white frame where the
    /// agent is (img, uint8 (N, 24, 24, 3)), state (agent x, y first), and actions leading the agent along a circle.
    /// </summary>
    static ReplayBuffer Demonstrations()
    {
        int[] lengths = [16, 14];
        var steps = lengths.Sum();
        var img = new byte[steps * Size * Size * 3];
        var state = new float[steps * 5];
        var action = new float[steps * 2];
        var ends = new long[lengths.Length];
        var row = 0;
        for (var e = 0; e < lengths.Length; e++)
        {
            for (var t = 0; t < lengths[e]; t++, row++)
            {
                var phase = (0.25 * t) + (2 * e);
                double x = 256 + (150 * Math.Cos(phase)), y = 256 + (150 * Math.Sin(phase));
                state[row * 5] = (float)x;
                state[(row * 5) + 1] = (float)y;
                action[row * 2] = (float)(256 + (150 * Math.Cos(phase + 0.25)));
                action[(row * 2) + 1] = (float)(256 + (150 * Math.Sin(phase + 0.25)));
                for (var v = 0; v < Size; v++)
                {
                    for (var u = 0; u < Size; u++)
                    {
                        var inside = Math.Pow(((u + 0.5) * 512 / Size) - x, 2) + Math.Pow(((v + 0.5) * 512 / Size) - y, 2) < 60 * 60;
                        var offset = (((row * Size) + v) * Size + u) * 3;
                        img[offset] = inside ? (byte)65 : (byte)255;
                        img[offset + 1] = inside ? (byte)105 : (byte)255;
                        img[offset + 2] = inside ? (byte)225 : (byte)255;
                    }
                }
            }
            ends[e] = row;
        }
        return new ReplayBuffer(new Dictionary<string, NpyArray>
        {
            ["img"] = new(img, steps, Size, Size, 3),
            ["state"] = new(state, steps, 5),
            ["action"] = new(action, steps, 2),
            ["episode_ends"] = new(ends, lengths.Length),
        });
    }

    [Fact]
    public void A_signal_between_saves_saves_the_policy_of_the_step_reached()
    {
        var run = new ImageTrainingRun(Config(3), Demonstrations(), Path.Combine(root, "signalled"));
        using var signal = new CancellationTokenSource();
        // Cancelled while step 1 is reported, after the step decided not to save (save_every 1000).
        var progress = new Progress(p => { if (p.Step == 1) signal.Cancel(); });
        Assert.Equal(1, run.Run(progress, signal.Token));
        using var policy = DiffusionPolicy.Load(run.PolicyDirectory);
        Assert.NotNull(policy.Encoder);
    }

    sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    [Fact]
    public void A_run_writes_an_image_policy_that_loads_and_acts_on_frames()
    {
        // That training lowers the loss is tested on PushT's expert demonstrations (Cli.Tests ImagePushTTests).
        var run = new ImageTrainingRun(Config(2), Demonstrations(), Path.Combine(root, "run"));
        Assert.Equal(2, run.Run());
        var rows = File.ReadAllLines(run.LogPath).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.Equal(["1", "2"], rows.Select(r => r[0]));
        Assert.True(double.Parse(rows[^1][3], CultureInfo.InvariantCulture) > 0, "no validation loss at the last step");

        using var policy = DiffusionPolicy.Load(run.PolicyDirectory);
        Assert.NotNull(policy.Encoder);
        var frame = Demonstrations().Stored("img").Data as byte[];
        var image = new float[2 * 3 * Size * Size];
        for (var s = 0; s < 2; s++)
        {
            for (var p = 0; p < Size * Size; p++)
            {
                for (var c = 0; c < 3; c++) image[(s * 3 * Size * Size) + (c * Size * Size) + p] = frame![(p * 3) + c] / 255f;
            }
        }
        var chunk = policy.PredictActions(new Dictionary<string, float[]> { ["image"] = image, ["agent_pos"] = [406, 256, 406, 256] });
        Assert.Equal(7 * 2, chunk.Actions.Length);
        Assert.All(chunk.Actions, a => Assert.True(float.IsFinite(a)));
    }

    [Fact]
    public void Data_that_does_not_fit_the_cameras_is_refused_naming_the_column()
    {
        var config = Config(1) with
        {
            Observations = [new("image", [3, 32, 32], ObservationSpec.Rgb), new("agent_pos", [2], ObservationSpec.LowDim)],
            ObsEncoder = new ObsEncoderConfig { CropShape = new Dictionary<string, int[]> { ["image"] = [28, 28] } },
        };
        var error = Assert.Throws<InvalidDataException>(() => new ImageTrainingRun(config, Demonstrations(), Path.Combine(root, "bad")).CheckData());
        Assert.Contains("'img'", error.Message);
        Assert.Contains("(N, 32, 32, 3)", error.Message);
    }
}
