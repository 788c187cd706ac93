namespace DiffPolicy.Policy.Network.Fast;

/// <summary>
/// The right operand B (K × N) of a product, with its bias (N), packed once in panels of
/// <see cref="Width"/> columns: panel p holds B[k, p·Width + j] at k·Width + j, zero beyond N, so
/// the kernel streams one panel with unit stride.
/// </summary>
internal sealed unsafe class PackedMatrix : IDisposable
{
    public const int Width = 32;

    readonly NativeBuffer values;
    readonly NativeBuffer bias;

    public int K { get; }
    public int N { get; }
    public int Panels => (N + Width - 1) / Width;

    /// <param name="element">B[k, n].</param>
    /// <param name="bias">N values added to every output row, or null for none.</param>
    public PackedMatrix(int k, int n, Func<int, int, float> element, ReadOnlySpan<float> bias)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        K = k;
        N = n;
        values = new NativeBuffer((long)Panels * k * Width);
        this.bias = new NativeBuffer((long)Panels * Width);
        var v = values.Pointer;
        for (var p = 0; p < Panels; p++)
        {
            for (var kk = 0; kk < k; kk++)
            {
                for (var j = 0; j < Width && p * Width + j < n; j++)
                    v[((long)p * k + kk) * Width + j] = element(kk, p * Width + j);
            }
        }

        if (!bias.IsEmpty)
        {
            if (bias.Length != n) throw new ArgumentException($"bias has {bias.Length} values, expected {n}.", nameof(bias));
            bias.CopyTo(this.bias.Span);
        }
    }

    public float* Panel(int p) => values.Pointer + (long)p * K * Width;

    public float* Bias(int p) => bias.Pointer + p * Width;

    public void Dispose()
    {
        values.Dispose();
        bias.Dispose();
    }
}
