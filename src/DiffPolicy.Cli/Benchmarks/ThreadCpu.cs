using System.Runtime.InteropServices;

namespace DiffPolicy.Cli.Benchmarks;

/// <summary>CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID); libtorch at one thread computes on the caller's.</summary>
internal static class ThreadCpu
{
    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    const int ThreadCpuClock = 3;

    public static double Milliseconds()
    {
        if (!OperatingSystem.IsLinux()) return double.NaN;
        return ClockGetTime(ThreadCpuClock, out var time) == 0 ? time.Seconds * 1e3 + time.Nanoseconds * 1e-6 : double.NaN;
    }
}
