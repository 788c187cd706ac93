namespace DiffPolicy.Cli.Tests;

public class NativeHeapTests
{
    [Fact]
    public void Glibc_accepts_the_arena_cap_unless_the_user_set_one()
    {
        if (!OperatingSystem.IsLinux()) return;
        var userSet = Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null;
        // mallopt returns 1 when glibc takes the setting (man 3 mallopt); a user's MALLOC_ARENA_MAX is left alone.
        Assert.Equal(!userSet, NativeHeap.LimitArenas());
    }
}
