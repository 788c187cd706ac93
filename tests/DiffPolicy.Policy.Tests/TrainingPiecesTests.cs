using DiffPolicy.Policy.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// Normalizer, learning-rate schedule and EMA against DiffusionPolicy's definitions
/// (model/common/normalizer.py "limits", diffusers get_cosine_schedule_with_warmup,
/// model/diffusion/ema_model.py).
/// </summary>
public class TrainingPiecesTests
{
    [Fact]
    public void Limits_normalizer_maps_each_dimension_onto_minus_one_one_and_back()
    {
        // dimension 0 spans [−3, 5]; dimension 1 is constant 7 (range below ε: only centred).
        float[] rows = [-3, 7, 5, 7, 1, 7, 0.5f, 7];
        var normalizer = LinearNormalizer.FitLimits(rows, 2);
        var y = (float[])rows.Clone();
        normalizer.Normalize(y);
        Assert.Equal(-1f, y[0], 6);
        Assert.Equal(1f, y[2], 6);
        Assert.Equal(2 * (1 - -3) / 8f - 1, y[4], 6);
        Assert.All(new[] { y[1], y[3], y[5], y[7] }, v => Assert.Equal(0f, v));
        normalizer.Unnormalize(y);
        for (var i = 0; i < rows.Length; i++) Assert.Equal(rows[i], y[i], 5);

        Assert.Equal(0.875f, normalizer.Stats.Mean[0], 6);
        Assert.Equal((float)Math.Sqrt((Math.Pow(-3 - 0.875, 2) + Math.Pow(5 - 0.875, 2) + Math.Pow(1 - 0.875, 2) + Math.Pow(0.5 - 0.875, 2)) / 3), normalizer.Stats.Std[0], 5);
    }

    [Fact]
    public void Normalizer_refuses_non_finite_data()
    {
        Assert.Throws<ArgumentException>(() => LinearNormalizer.FitLimits([1f, float.NaN], 2));
        Assert.Throws<ArgumentException>(() => LinearNormalizer.FitLimits([1f, 2f, 3f], 2));
    }

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(250, 0.5e-4)]
    [InlineData(500, 1e-4)]
    [InlineData(5250, 0.5e-4)]   // half-way through the cosine: cos(π/2) = 0 → half the rate
    [InlineData(10000, 0.0)]
    public void Cosine_schedule_with_warmup(int step, double expected) =>
        Assert.Equal(expected, LearningRateSchedule.CosineWithWarmup(1e-4, step, 500, 10000), 12);

    [Fact]
    public void Ema_decay_follows_the_power_law_and_averages_parameters()
    {
        Assert.Equal(0.0, new EmaModel(nn.Linear(1, 1)).Decay(0));
        Assert.Equal(0.0, new EmaModel(nn.Linear(1, 1)).Decay(1));
        Assert.Equal(1 - Math.Pow(1 + 9, -0.75), new EmaModel(nn.Linear(1, 1)).Decay(10), 12);
        Assert.Equal(0.9999, new EmaModel(nn.Linear(1, 1)).Decay(100_000_000), 12);

        using var scope = NewDisposeScope();
        var model = nn.Linear(2, 1);
        var shadow = nn.Linear(2, 1);
        using (no_grad())
        {
            model.weight!.copy_(tensor(new float[] { 1, 2 }).reshape(1, 2));
            model.bias!.fill_(3);
            shadow.weight!.zero_();
            shadow.bias!.zero_();
        }
        var ema = new EmaModel(shadow);
        ema.Step(model, 10);
        var d = ema.Decay(10);
        Assert.Equal((float)((1 - d) * 2), shadow.weight!.data<float>()[1], 6);
        Assert.Equal((float)((1 - d) * 3), shadow.bias!.item<float>(), 6);
    }
}
