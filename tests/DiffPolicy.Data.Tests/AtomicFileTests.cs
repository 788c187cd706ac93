namespace DiffPolicy.Data.Tests;

/// <summary>A file is replaced whole or not at all.</summary>
public sealed class AtomicFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("atomic-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void A_writer_that_fails_halfway_leaves_the_old_file_and_no_temporary()
    {
        var path = Path.Combine(dir, "report.json");
        File.WriteAllText(path, "old");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("new, half"u8);
            throw new IOException("No space left on device");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["report.json"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void A_full_device_is_written_in_place_and_fails_with_an_IOException()
    {
        // /dev/full accepts the open and refuses every write with ENOSPC: a disk that is full. Renaming over it
        // would replace the device, so device files are written in place.
        Assert.True(File.Exists("/dev/full"), "Linux provides /dev/full");
        var e = Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllText("/dev/full", new string('x', 100_000)));
        Assert.Contains("space", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(File.Exists("/dev/full"));
    }

    [Fact]
    public void Missing_folders_are_created_and_a_symbolic_link_keeps_pointing_at_the_new_contents()
    {
        var target = Path.Combine(dir, "real.txt");
        File.WriteAllText(target, "old");
        var link = Path.Combine(dir, "link.txt");
        File.CreateSymbolicLink(link, target);
        AtomicFile.WriteAllText(link, "new");
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal("new", File.ReadAllText(target));

        var nested = Path.Combine(dir, "a", "b", "c.txt");
        AtomicFile.WriteAllText(nested, "deep");
        Assert.Equal("deep", File.ReadAllText(nested));
    }
}
