using System.Runtime.InteropServices;

namespace DiffPolicy.Cli;

/// <summary>
/// glibc's malloc gives each thread that allocates concurrently an arena of its own (up to 8 per core), and an arena
/// keeps the pages it has grown to. libtorch allocates every tensor through malloc from the inference workers, its
/// OpenMP threads and the socket threads, so a long-running server's resident memory rises in steps as new threads
/// touch new arenas (docs/soak.md). Two arenas bound that growth; a MALLOC_ARENA_MAX set by the user wins.
/// </summary>
internal static class NativeHeap
{
    const int MallocArenaMax = -8;

    public const int Arenas = 2;

    /// <summary>Caps glibc's arenas at <see cref="Arenas"/> unless MALLOC_ARENA_MAX is set; true when applied.</summary>
    public static bool LimitArenas()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return false;
        try
        {
            return mallopt(MallocArenaMax, Arenas) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc (musl has no arenas to cap)
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    static extern int mallopt(int param, int value);
}
