using DiffPolicy.Policy.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// Schedulers against the formulas of SAMPLING.md and diffusers, re-derived here in double precision:
/// the cos² schedule telescopes, ᾱ_i = f((i+1)/N)/f(0) for every unclipped β (all but the last),
/// the DDPM posterior, a DDIM step and a DPM-Solver++ 2M step written in diffusers' own form.
/// </summary>
public class SchedulerTests
{
    const int N = 100;
    static double F(double s) => Math.Pow(Math.Cos((s + 0.008) / 1.008 * Math.PI / 2), 2);

    /// <summary>ᾱ_t from the closed form of the telescoping product (β clipped to 0.999 only at t = N−1).</summary>
    static double AlphaBar(int t) => t < N - 1 ? F((t + 1.0) / N) / F(0) : F((N - 1.0) / N) / F(0) * 0.001;

    static readonly NoiseSchedule Schedule = new(N);

    [Fact]
    public void Alpha_bar_table_follows_the_cosine_formula()
    {
        Assert.Equal(0.999, Schedule.Betas[N - 1], 6);   // the cap
        for (var t = 0; t < N; t++)
            Assert.Equal(AlphaBar(t), Schedule.AlphasCumprod[t], 1e-6 * Math.Max(1, 1 / AlphaBar(t)) * AlphaBar(t) + 1e-9);
    }

    [Fact]
    public void Ddpm_100_steps_have_every_timestep_and_the_posterior_variance()
    {
        using var ddpm = new DdpmScheduler(Schedule, 100);
        Assert.Equal(Enumerable.Range(0, N).Reverse(), ddpm.Timesteps);
        for (var j = 0; j < N - 1; j++)
        {
            var t = ddpm.Timesteps[j];
            var beta = 1 - AlphaBar(t) / AlphaBar(t - 1);
            var expected = (1 - AlphaBar(t - 1)) / (1 - AlphaBar(t)) * beta;
            Assert.Equal(expected, ddpm.StepVariance(j), expected * 1e-4);
            Assert.Equal(Math.Sqrt(expected), ddpm.NoiseStd(j), Math.Sqrt(expected) * 1e-4);
        }
        Assert.Equal(1e-20, ddpm.StepVariance(N - 1)); // t = 0: ᾱ_prev = 1, variance clamped
        Assert.Equal(0, ddpm.NoiseStd(N - 1));          // and no noise at the last step
    }

    [Theory]
    [InlineData(20, 0.3, -0.7)]   // x̂0 inside [−1, 1]
    [InlineData(99, 2.5, -0.4)]   // x̂0 clipped
    [InlineData(0, 0.1, 0.2)]     // last step: ᾱ_prev = 1
    public void Ddpm_mean_is_the_posterior_mean(int t, double x, double eps)
    {
        using var ddpm = new DdpmScheduler(Schedule, 100);
        var j = N - 1 - t;
        double a = AlphaBar(t), ap = t > 0 ? AlphaBar(t - 1) : 1, beta = 1 - a / ap;
        var x0 = Math.Clamp((x - Math.Sqrt(1 - a) * eps) / Math.Sqrt(a), -1, 1);
        var expected = Math.Sqrt(ap) * beta / (1 - a) * x0 + Math.Sqrt(1 - beta) * (1 - ap) / (1 - a) * x;

        var (mean, prediction) = Step(ddpm, j, x, eps);
        Assert.Equal(x0, prediction, 1e-5);
        Assert.Equal(expected, mean, 1e-5 * Math.Max(1, Math.Abs(expected)));
    }

    [Fact]
    public void Ddim_10_steps_use_leading_spacing_and_the_eta_0_update()
    {
        using var ddim = new DdimScheduler(Schedule, 10);
        Assert.Equal([90, 80, 70, 60, 50, 40, 30, 20, 10, 0], ddim.Timesteps);
        foreach (var (j, x, eps) in new[] { (3, 0.4, 0.9), (0, 1.7, -0.2), (9, 0.05, 0.3) })
        {
            var t = ddim.Timesteps[j];
            double a = AlphaBar(t), ap = t - 10 >= 0 ? AlphaBar(t - 10) : 1;
            var x0 = Math.Clamp((x - Math.Sqrt(1 - a) * eps) / Math.Sqrt(a), -1, 1);
            var expected = Math.Sqrt(ap) * x0 + Math.Sqrt(1 - ap) * eps;
            var (mean, _) = Step(ddim, j, x, eps);
            Assert.Equal(expected, mean, 1e-5);
        }
        Assert.Equal(0, ddim.NoiseStd(3));
    }

    [Fact]
    public void Sample_prediction_uses_the_model_output_as_x0()
    {
        using var ddpm = new DdpmScheduler(Schedule, 100, PredictionType.Sample);
        var (_, prediction) = Step(ddpm, 50, 0.8, 0.6);
        Assert.Equal(0.6, prediction, 1e-6);
        using var ddim = new DdimScheduler(Schedule, 10, PredictionType.Sample);
        var t = ddim.Timesteps[4];
        double a = AlphaBar(t), ap = AlphaBar(t - 10), x = 0.8, x0 = 0.6;
        var epsHat = (x - Math.Sqrt(a) * x0) / Math.Sqrt(1 - a);
        var (mean, _) = Step(ddim, 4, x, x0);
        Assert.Equal(Math.Sqrt(ap) * x0 + Math.Sqrt(1 - ap) * epsHat, mean, 1e-5);
    }

    [Fact]
    public void Dpm_solver_timesteps_follow_diffusers_linspace_with_round_half_even()
    {
        // numpy: np.linspace(0, 99, S + 1).round()[::-1][:-1]; 49.5 rounds to 50.
        using var dpm = new DpmSolverMultistepScheduler(Schedule, 10);
        Assert.Equal([99, 89, 79, 69, 59, 50, 40, 30, 20, 10], dpm.Timesteps);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DpmSolverMultistepScheduler(Schedule, 100)); // repeats 50
    }

    [Fact]
    public void Dpm_solver_steps_match_diffusers_first_and_second_order_updates()
    {
        using var dpm = new DpmSolverMultistepScheduler(Schedule, 10);
        double Sigma(int j) => j < 10 ? Math.Sqrt((1 - AlphaBar(dpm.Timesteps[j])) / AlphaBar(dpm.Timesteps[j])) : 0;
        (double Alpha, double Scale, double Lambda) At(int j)
        {
            double alpha = 1 / Math.Sqrt(Sigma(j) * Sigma(j) + 1), scale = Sigma(j) * alpha;
            return (alpha, scale, Math.Log(alpha) - Math.Log(scale));
        }
        // diffusers' multistep_dpm_solver_second_order_update, dpmsolver++ / midpoint, at j = 4.
        double x = 0.3, eps = -0.8, m1 = 0.25;
        var (aT, sT, lT) = At(5);
        var (a0, s0, l0) = At(4);
        var (_, _, l1) = At(3);
        var m0 = (x - s0 * eps) / a0;
        double h = lT - l0, r0 = (l0 - l1) / h, d1 = (m0 - m1) / r0;
        var expected = sT / s0 * x - aT * (Math.Exp(-h) - 1) * m0 - 0.5 * aT * (Math.Exp(-h) - 1) * d1;
        var (mean, prediction) = Step(dpm, 4, x, eps, m1);
        Assert.Equal(m0, prediction, 1e-5);
        Assert.Equal(expected, mean, 1e-5);

        // dpm_solver_first_order_update at j = 0 (no history) and at the last step (σ = 0 → x̂0).
        (aT, sT, lT) = At(1);
        (a0, s0, l0) = At(0);
        m0 = (x - s0 * eps) / a0;
        expected = sT / s0 * x - aT * (Math.Exp(-(lT - l0)) - 1) * m0;
        Assert.Equal(expected, Step(dpm, 0, x, eps, 123).Mean, 1e-5 * Math.Max(1, Math.Abs(expected)));
        var last = Step(dpm, 9, x, eps, 123);
        Assert.Equal(last.Prediction, last.Mean, 1e-6);
    }

    [Fact]
    public void Add_noise_mixes_sample_and_noise_by_alpha_bar()
    {
        using var x0 = tensor(new[] { 0.5f, -0.25f, 1f, 0f }).reshape(2, 2);
        using var noise = tensor(new[] { 1f, 2f, -1f, 0.5f }).reshape(2, 2);
        using var t = tensor(new long[] { 3, 97 });
        using var noisy = Schedule.AddNoise(x0, noise, t);
        var values = noisy.data<float>().ToArray();
        double[] x = [0.5, -0.25, 1, 0], e = [1, 2, -1, 0.5];
        for (var i = 0; i < 4; i++)
        {
            var a = AlphaBar(i < 2 ? 3 : 97);
            Assert.Equal(Math.Sqrt(a) * x[i] + Math.Sqrt(1 - a) * e[i], values[i], 1e-5);
        }
        using var bad = tensor(new long[] { 3, 100 });
        Assert.Throws<ArgumentOutOfRangeException>(() => Schedule.AddNoise(x0, noise, bad));
    }

    /// <summary>One slot of one element through Predict and Mean.</summary>
    static (double Mean, double Prediction) Step(DiffusionScheduler scheduler, int step, double x, double modelOutput, double previousPrediction = 0)
    {
        using var scope = NewDisposeScope();
        var sample = tensor(new[] { (float)x }).reshape(1, 1);
        var output = tensor(new[] { (float)modelOutput }).reshape(1, 1);
        var steps = tensor(new long[] { step });
        var prediction = scheduler.Predict(output, sample, steps);
        var mean = scheduler.Mean(output, sample, prediction, tensor(new[] { (float)previousPrediction }).reshape(1, 1), steps);
        return (mean.item<float>(), prediction.item<float>());
    }
}
