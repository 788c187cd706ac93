namespace DiffPolicy.Tests;

/// <summary>
/// Reference data made by independent implementations (the original PyTorch code, Chipmunk 7, numpy),
/// kept in <c>tests/fixtures/</c>; its README says where each file came from.
/// </summary>
internal static class Fixtures
{
    public static string Root => Path.Combine(RepoPaths.Root, "tests", "fixtures");

    /// <summary>The original ConditionalUnet1D's weights and outputs (<c>tests/fixtures/unet</c>).</summary>
    public static string Unet(string file) => Existing("unet", file);

    /// <summary>Chipmunk 7 trajectories and numpy resets (<c>tests/fixtures/pusht</c>).</summary>
    public static string PushT(string file) => Existing("pusht", file);

    /// <summary>Upstream diffusion_policy workspace checkpoints and golden outputs (<c>tests/fixtures/dp</c>).</summary>
    public static string Dp(string file) => Existing("dp", file);

    static string Existing(string folder, string file)
    {
        var path = Path.Combine(Root, folder, file);
        if (!File.Exists(path)) throw new FileNotFoundException($"Fixture '{path}' is missing from the repository.", path);
        return path;
    }
}
