using TorchSharp;

namespace DiffPolicy.Policy;

/// <summary>The libtorch backend as this process sees it: version, devices, threads.</summary>
public static class TorchRuntime
{
    /// <summary>libtorch version (e.g. "2.10.0") as reported by the loaded native library.</summary>
    public static string LibTorchVersion => torch.__version__;

    public static bool CudaAvailable => torch.cuda.is_available();

    /// <summary>
    /// Resolves a device name: "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".
    /// </summary>
    public static torch.Device ResolveDevice(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Equals("auto", StringComparison.OrdinalIgnoreCase))
            return CudaAvailable ? torch.CUDA : torch.CPU;
        if (name.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) && !CudaAvailable)
        {
            throw new ArgumentException(
                $"Device '{name}' requested but CUDA is not available (this build uses the {BuildBackend} backend).", nameof(name));
        }

        try
        {
            return torch.device(name.ToLowerInvariant());
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"Unknown device '{name}': use auto, cpu, cuda or cuda:N.", nameof(name), e);
        }
    }

    /// <summary>Sets the intra-op thread count used by libtorch (0 keeps libtorch's default).</summary>
    public static void SetThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        if (threads > 0) torch.set_num_threads(threads);
    }

    public static int Threads => torch.get_num_threads();

    public static string BuildBackend =>
#if TORCH_CUDA
        "cuda";
#else
        "cpu";
#endif
}
