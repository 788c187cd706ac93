using System.Text.Json;
using DiffPolicy.Sim.PushT.Env;

namespace DiffPolicy.Sim.PushT.Tests;

public class ResetTests
{
    [Fact]
    public void Seeded_resets_equal_numpys_draws_bit_for_bit()
    {
        var expected = JsonSerializer.Deserialize<Dictionary<string, double[]>>(File.ReadAllText(Fixtures.PushT("reset_states.json")))!;
        Assert.NotEmpty(expected);
        foreach (var (seed, values) in expected)
        {
            var state = PushTState.Sample(long.Parse(seed, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(values, state.ToArray());
        }
    }

    [Theory]
    // Reference MT19937 (init_genrand) outputs: the C++ standard's std::mt19937 (seed 5489) and its seed-1 stream.
    [InlineData(5489u, 1, 3499211612u)]
    [InlineData(5489u, 10000, 4123659995u)]
    [InlineData(1u, 1, 1791095845u)]
    public void Mt19937_stream_matches_the_reference_generator(uint seed, int draw, uint expected)
    {
        var rs = new NumpyRandomState(seed);
        uint value = 0;
        for (var i = 0; i < draw; i++)
        {
            value = rs.NextUInt32();
        }
        Assert.Equal(expected, value);
    }

    [Fact]
    public void Gaussian_draws_follow_the_polar_method_and_cache_the_second_value()
    {
        // The spec: x1, x2 = 2u − 1 until 0 < r² < 1; return f·x2 and keep f·x1 for the next call.
        var uniforms = new NumpyRandomState(7);
        double x1, x2, r2;
        do
        {
            x1 = 2.0 * uniforms.NextDouble() - 1.0;
            x2 = 2.0 * uniforms.NextDouble() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        }
        while (r2 >= 1.0 || r2 == 0.0);
        var f = Math.Sqrt(-2.0 * Math.Log(r2) / r2);

        var rs = new NumpyRandomState(7);
        Assert.Equal(f * x2, rs.RandN());
        Assert.Equal(f * x1, rs.RandN());
        Assert.Equal(uniforms.NextUInt32(), rs.NextUInt32());
    }

    [Fact]
    public void RandInt_stays_in_range_and_rejects_with_the_mask()
    {
        var rs = new NumpyRandomState(123);
        for (var i = 0; i < 10_000; i++)
        {
            var v = rs.RandInt(50, 450);
            Assert.InRange(v, 50, 449);
        }
        // With range 399 the mask is 511: the first draw whose low 9 bits are <= 399 decides.
        var raw = new NumpyRandomState(123);
        var check = new NumpyRandomState(123);
        uint bits;
        do
        {
            bits = raw.NextUInt32() & 511u;
        }
        while (bits > 399);
        Assert.Equal(50 + bits, check.RandInt(50, 450));
    }

    [Fact]
    public void Seeds_outside_numpys_range_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PushTState.Sample(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PushTState.Sample(1L << 32));
    }
}
