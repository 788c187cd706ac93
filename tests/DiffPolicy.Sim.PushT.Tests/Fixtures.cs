namespace DiffPolicy.Sim.PushT.Tests;

/// <summary>Paths of the shared fixtures, found relative to the repository root (the folder holding the .sln).</summary>
internal static class Fixtures
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string PushT(string name) => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures", "pusht", name));

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DiffPolicy.Control.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("DiffPolicy.Control.sln not found above " + AppContext.BaseDirectory);
    }
}
