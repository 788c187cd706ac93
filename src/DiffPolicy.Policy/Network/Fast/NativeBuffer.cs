using System.Runtime.InteropServices;

namespace DiffPolicy.Policy.Network.Fast;

/// <summary>Zeroed, 64-byte aligned native floats (one cache line, one Vector512), freed on dispose or finalisation.</summary>
/// <remarks>
/// No <c>GC.AddMemoryPressure</c>: every buffer has an owner that disposes it (the finaliser is a safety net only),
/// and the hint for the FiLM rows a chunk allocates made the runtime induce a full collection about once per chunk
/// in a server (docs/soak.md).
/// </remarks>
internal sealed unsafe class NativeBuffer : IDisposable
{
    public float* Pointer { get; private set; }
    public long Length { get; }

    public NativeBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        var bytes = (nuint)Math.Max(length, 16) * sizeof(float);
        Pointer = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(Pointer, bytes);
    }

    public Span<float> Span => new(Pointer, checked((int)Length));

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~NativeBuffer() => Free();

    void Free()
    {
        if (Pointer == null) return;
        NativeMemory.AlignedFree(Pointer);
        Pointer = null;
    }
}
