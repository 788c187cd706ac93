namespace DiffPolicy.Tests;

/// <summary>The repository root (the folder holding DiffPolicy.Control.sln), found above the test output.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DiffPolicy.Control.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("DiffPolicy.Control.sln not found above " + AppContext.BaseDirectory);
    }
}
