namespace DiffPolicy.Policy.Checkpoints;

/// <summary>
/// Replaces a directory as a whole: contents are written into <c>dir.tmp</c>, the old directory is
/// renamed to <c>dir.old</c>, the new one renamed into place, then the old one deleted. A crash at
/// any point leaves either the old or the new directory readable (<see cref="Resolve"/>). When
/// <c>writeContents</c> throws, the staging directory is removed and the target left as it was.
/// </summary>
public static class AtomicDirectory
{
    public static void Write(string directory, Action<string> writeContents)
    {
        ArgumentNullException.ThrowIfNull(writeContents);
        var target = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        var staging = target + ".tmp";
        var old = target + ".old";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        try
        {
            writeContents(staging);
        }
        catch
        {
            // Nothing half-written stays behind; the target is untouched.
            Directory.Delete(staging, recursive: true);
            throw;
        }
        if (Directory.Exists(target))
        {
            if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
            Directory.Move(target, old);
        }
        Directory.Move(staging, target);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }

    /// <summary>The directory to read: itself, or its <c>.old</c> copy if a swap was interrupted.</summary>
    public static string Resolve(string directory)
    {
        var target = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        if (Directory.Exists(target)) return target;
        if (Directory.Exists(target + ".old")) return target + ".old";
        throw new DirectoryNotFoundException($"Checkpoint directory '{directory}' does not exist.");
    }
}
