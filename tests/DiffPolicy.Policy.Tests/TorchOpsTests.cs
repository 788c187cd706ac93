using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// The building block of ConditionalUnet1D (Conv1d → GroupNorm → Mish) against a direct evaluation
/// of the textbook formulas in double precision: cross-correlation with zero padding, per-group
/// mean/biased variance with ε = 1e-5 and affine, mish(x) = x·tanh(softplus(x)).
/// </summary>
public class TorchOpsTests
{
    const int Batch = 2, InChannels = 3, OutChannels = 8, Length = 6, Kernel = 5, Groups = 4;

    static double W(int o, int i, int k) => Math.Sin(1.0 + o + 0.7 * i + 0.3 * k) * 0.4;
    static double Bias(int o) => 0.1 * o - 0.35;
    static double X(int b, int i, int t) => Math.Cos(0.5 * b + 1.3 * i + 0.9 * t) * (1 + 0.2 * t);
    static double Gamma(int o) => 1.0 + 0.05 * o;
    static double Beta(int o) => -0.2 + 0.03 * o;

    [Fact]
    public void Conv1d_GroupNorm_Mish_matches_the_formulas()
    {
        using var scope = NewDisposeScope();
        var conv = nn.Conv1d(InChannels, OutChannels, Kernel, padding: Kernel / 2);
        var norm = nn.GroupNorm(Groups, OutChannels);
        var mish = nn.Mish();
        using (no_grad())
        {
            conv.weight!.copy_(Tensor3(OutChannels, InChannels, Kernel, W));
            conv.bias!.copy_(tensor(Enumerable.Range(0, OutChannels).Select(o => (float)Bias(o)).ToArray()));
            norm.weight!.copy_(tensor(Enumerable.Range(0, OutChannels).Select(o => (float)Gamma(o)).ToArray()));
            norm.bias!.copy_(tensor(Enumerable.Range(0, OutChannels).Select(o => (float)Beta(o)).ToArray()));
        }
        var x = Tensor3(Batch, InChannels, Length, X);
        var y = mish.call(norm.call(conv.call(x)));
        var actual = y.data<float>().ToArray();

        var expected = Reference();
        var n = 0;
        for (var b = 0; b < Batch; b++)
        {
            for (var o = 0; o < OutChannels; o++)
            {
                for (var t = 0; t < Length; t++)
                    Assert.Equal(expected[b, o, t], actual[n++], 1e-5);
            }
        }
    }

    static Tensor Tensor3(int d0, int d1, int d2, Func<int, int, int, double> f)
    {
        var values = new float[d0 * d1 * d2];
        var n = 0;
        for (var a = 0; a < d0; a++)
        {
            for (var b = 0; b < d1; b++)
            {
                for (var c = 0; c < d2; c++)
                    values[n++] = (float)f(a, b, c);
            }
        }

        return tensor(values).reshape(d0, d1, d2);
    }

    static double[,,] Reference()
    {
        var conv = new double[Batch, OutChannels, Length];
        for (var b = 0; b < Batch; b++)
        {
            for (var o = 0; o < OutChannels; o++)
            {
                for (var t = 0; t < Length; t++)
                {
                    var s = Bias(o);
                    for (var i = 0; i < InChannels; i++)
                    {
                        for (var k = 0; k < Kernel; k++)
                        {
                            var src = t + k - Kernel / 2;
                            if (src >= 0 && src < Length) s += W(o, i, k) * (float)X(b, i, src);
                        }
                    }

                    conv[b, o, t] = s;
                }
            }
        }

        var result = new double[Batch, OutChannels, Length];
        var perGroup = OutChannels / Groups;
        for (var b = 0; b < Batch; b++)
        {
            for (var g = 0; g < Groups; g++)
            {
                var values = new List<double>();
                for (var o = g * perGroup; o < (g + 1) * perGroup; o++)
                    for (var t = 0; t < Length; t++) values.Add(conv[b, o, t]);
                var mean = values.Average();
                var variance = values.Select(v => (v - mean) * (v - mean)).Average();
                for (var o = g * perGroup; o < (g + 1) * perGroup; o++)
                {
                    for (var t = 0; t < Length; t++)
                    {
                        var z = (conv[b, o, t] - mean) / Math.Sqrt(variance + 1e-5) * Gamma(o) + Beta(o);
                        result[b, o, t] = z * Math.Tanh(Math.Log(1 + Math.Exp(z)));
                    }
                }
            }
        }

        return result;
    }
}
