namespace DiffPolicy.Sim.PushT.Tests;

/// <summary>Paths of the shared fixtures, found relative to the repository root (the folder holding the .sln).</summary>
internal static class Fixtures
{
    public static string RepoRoot => RepoPaths.Root;

    public static string PushT(string name) => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures", "pusht", name));

}
