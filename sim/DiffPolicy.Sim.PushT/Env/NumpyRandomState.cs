namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// numpy's legacy <c>RandomState</c>: MT19937 seeded by <c>init_genrand</c>, <c>randint</c> by masked rejection
/// on 32-bit draws and <c>randn</c> by the polar method with its cached second value. Bit-exact with numpy,
/// which is what makes seeded PushT resets identical to the original's.
/// </summary>
internal sealed class NumpyRandomState
{
    const int N = 624;
    const int M = 397;
    readonly uint[] mt = new uint[N];
    int index;
    bool hasGauss;
    double gauss;

    public NumpyRandomState(uint seed)
    {
        mt[0] = seed;
        for (var i = 1; i < N; i++)
        {
            mt[i] = unchecked(1812433253u * (mt[i - 1] ^ (mt[i - 1] >> 30)) + (uint)i);
        }
        index = N;
    }

    public uint NextUInt32()
    {
        if (index >= N)
        {
            Twist();
        }
        var y = mt[index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary><c>randint(low, high)</c>: an integer in [low, high).</summary>
    public long RandInt(long low, long high)
    {
        if (high <= low)
        {
            throw new ArgumentOutOfRangeException(nameof(high), "high must be greater than low");
        }
        var range = (ulong)(high - low - 1);
        if (range == 0)
        {
            return low;
        }
        if (range > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(high), "ranges wider than 32 bits are not needed here");
        }
        var mask = range;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        ulong value;
        do
        {
            value = NextUInt32() & mask;
        }
        while (value > range);
        return low + (long)value;
    }

    /// <summary>A double in [0, 1) from two 32-bit draws (53 random bits).</summary>
    public double NextDouble()
    {
        var a = NextUInt32() >> 5;
        var b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /// <summary><c>randn()</c>: a standard normal draw, the legacy polar method.</summary>
    public double RandN()
    {
        if (hasGauss)
        {
            hasGauss = false;
            var cached = gauss;
            gauss = 0.0;
            return cached;
        }
        double x1, x2, r2;
        do
        {
            x1 = 2.0 * NextDouble() - 1.0;
            x2 = 2.0 * NextDouble() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        }
        while (r2 >= 1.0 || r2 == 0.0);
        var f = Math.Sqrt(-2.0 * Math.Log(r2) / r2);
        gauss = f * x1;
        hasGauss = true;
        return f * x2;
    }

    void Twist()
    {
        for (var i = 0; i < N; i++)
        {
            var y = (mt[i] & 0x80000000u) | (mt[(i + 1) % N] & 0x7fffffffu);
            var next = mt[(i + M) % N] ^ (y >> 1);
            mt[i] = (y & 1u) != 0 ? next ^ 0x9908b0dfu : next;
        }
        index = 0;
    }
}
