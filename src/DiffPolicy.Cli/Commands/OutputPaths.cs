using DiffPolicy.Data;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// Output paths checked before a verb starts its work, so a bad <c>--json</c> fails in a second rather than after a
/// seven-minute evaluation. Checking writes and removes a probe file; it never touches an existing output.
/// </summary>
internal static class OutputPaths
{
    /// <summary>
    /// The full path of a file the verb will write (atomically): the path must not be a folder, and its folder (or,
    /// if that does not exist yet, the nearest folder above it, where the writer will create the rest) must take new
    /// files. Creates nothing. Null when <paramref name="file"/> is.
    /// </summary>
    public static string? File(string option, FileInfo? file)
    {
        if (file is null) return null;
        var full = file.FullName;
        if (Directory.Exists(full)) throw new CliInputException(option, $"'{full}' is a folder; give a file name.");
        if (AtomicFile.IsSpecial(full))
        {
            if (!System.IO.File.Exists(full)) throw new CliInputException(option, $"'{full}' does not exist.");
            return full;
        }
        Probe(option, NearestFolder(option, Path.GetDirectoryName(AtomicFile.Resolve(full))!, full), full);
        return full;
    }

    /// <summary>
    /// The full path of a folder the verb writes into: not a file, and it (or the nearest folder above it, where the
    /// writer will create the rest) must take new files. Creates nothing. Null when <paramref name="folder"/> is.
    /// </summary>
    public static string? Folder(string option, DirectoryInfo? folder)
    {
        if (folder is null) return null;
        var full = folder.FullName;
        if (System.IO.File.Exists(full)) throw new CliInputException(option, $"'{full}' is a file, not a folder.");
        Probe(option, NearestFolder(option, full, full), full);
        return full;
    }

    static string NearestFolder(string option, string folder, string shown)
    {
        while (!Directory.Exists(folder))
        {
            if (System.IO.File.Exists(folder)) throw new CliInputException(option, $"cannot write '{shown}': '{folder}' is a file, not a folder.");
            folder = Path.GetDirectoryName(folder) ?? throw new CliInputException(option, $"cannot write '{shown}': no folder above it exists.");
        }
        return folder;
    }

    static void Probe(string option, string folder, string shown)
    {
        var probe = AtomicFile.TemporaryBeside(Path.Combine(folder, "probe"));
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliInputException(option, $"cannot write to '{shown}': {e.Message}", e);
        }
    }
}
