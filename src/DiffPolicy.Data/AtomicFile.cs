using System.Text;

namespace DiffPolicy.Data;

/// <summary>
/// Writes a file whole or not at all: the contents go to a temporary file beside the target, are flushed to
/// disk, and only then is the temporary renamed over the target. A crash, a full disk or a failing writer
/// leaves the previous file (or none) and no temporary behind. Missing parent folders are created.
/// </summary>
/// <remarks>
/// Targets under <c>/dev/</c> and <c>/proc/</c> (<c>/dev/stdout</c>, <c>/dev/null</c>, <c>/dev/full</c>, a
/// process's file descriptors) are written in place: renaming over them would replace the device, not write to it.
/// A symbolic link is followed, so the file it points to is replaced and the link kept.
/// </remarks>
public static class AtomicFile
{
    static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, stream => stream.Write(Utf8.GetBytes(text)));
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }

    /// <summary>Runs <paramref name="write"/> on a stream whose contents replace <paramref name="path"/> when it returns.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        var target = Resolve(path);
        if (IsSpecial(target))
        {
            using var device = new FileStream(target, FileMode.Open, FileAccess.Write);
            write(device);
            device.Flush();
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = TemporaryBeside(target);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>A fresh name in the target's directory (the same file system, so the rename is atomic), hidden and unique per process.</summary>
    public static string TemporaryBeside(string target)
    {
        var full = Path.GetFullPath(target);
        var unique = Guid.NewGuid().ToString("N")[..8];
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.tmp-{Environment.ProcessId}-{unique}");
    }

    /// <summary>The absolute path, with a symbolic link at <paramref name="path"/> followed to its final target (not under /dev or /proc).</summary>
    public static string Resolve(string path)
    {
        var full = Path.GetFullPath(path);
        if (IsSpecial(full)) return full;
        var info = new FileInfo(full);
        return info.Exists && info.LinkTarget is not null ? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full : full;
    }

    /// <summary>Whether <paramref name="fullPath"/> names a device or process file that must be written in place.</summary>
    public static bool IsSpecial(string fullPath)
    {
        ArgumentNullException.ThrowIfNull(fullPath);
        return fullPath.StartsWith("/dev/", StringComparison.Ordinal) || fullPath.StartsWith("/proc/", StringComparison.Ordinal);
    }
}
