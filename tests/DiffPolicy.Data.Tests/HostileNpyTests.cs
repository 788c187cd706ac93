using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace DiffPolicy.Data.Tests;

/// <summary>
/// Malformed .npy members (hand-built from the NEP 1 layout: magic, version, header length, header dictionary, data)
/// are refused with an <see cref="InvalidDataException"/> naming the file and key, before anything large is allocated.
/// </summary>
public sealed class HostileNpyTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("hostile-npy-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>An .npz with one member "action.npy" holding exactly <paramref name="npy"/>.</summary>
    string Npz(byte[] npy)
    {
        var path = Path.Combine(dir, "hostile.npz");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        using (var stream = zip.CreateEntry("action.npy").Open())
            stream.Write(npy);
        return path;
    }

    static byte[] Npy(string header, int version = 1, long? declaredLength = null, int dataBytes = 0)
    {
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)version, 0 };
        var text = Encoding.ASCII.GetBytes(header);
        var length = declaredLength ?? text.Length;
        if (version == 1)
        {
            var two = new byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(two, (ushort)length);
            bytes.AddRange(two);
        }
        else
        {
            var four = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(four, (uint)length);
            bytes.AddRange(four);
        }
        bytes.AddRange(text);
        bytes.AddRange(new byte[dataBytes]);
        return [.. bytes];
    }

    public static TheoryData<string, byte[], string> Cases => new()
    {
        { "a shape beyond int", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 2), }\n"), "not a whole number" },
        { "a negative shape", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 2), }\n"), "not a whole number" },
        { "more elements than an array holds", Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2000000000, 2000000000), }\n"), "more elements" },
        { "a shape larger than the data", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 100), }\n", dataBytes: 8), "truncated" },
        { "a 2^32 - 1 header length", Npy("{'descr': '<f4', 'shape': (1,), }", version: 2, declaredLength: uint.MaxValue), "longer than" },
        { "a header cut short", Npy("{'descr': '<f4', 'shape': (1,), }", declaredLength: 500), "truncated" },
        { "an unknown version", Npy("{'descr': '<f4', 'shape': (1,), }", version: 9), "version 9" },
        { "only the magic", Npy("", declaredLength: 0)[..7], "truncated" },
        { "big-endian floats", Npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n", dataBytes: 4), "dtype '>f4'" },
        { "no shape", Npy("{'descr': '<f4', 'fortran_order': False, }\n"), "unreadable .npy header" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Hostile_members_are_refused_naming_file_and_key(string what, byte[] npy, string expected)
    {
        var path = Npz(npy);
        var e = Assert.Throws<InvalidDataException>(() => DiffPolicy.Data.Npz.Load(path));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{path}': 'action'", e.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(what));
    }

    [Fact]
    public void Episode_ends_of_floats_or_beyond_int_are_refused_naming_the_source()
    {
        var floats = new Dictionary<string, NpyArray> { ["episode_ends"] = new(new[] { 3f }, 1), ["action"] = new(new float[6], 3, 2) };
        Assert.Contains("'d.npz': 'episode_ends' must be a 1-D integer array",
            Assert.Throws<InvalidDataException>(() => new ReplayBuffer(floats, "'d.npz'")).Message, StringComparison.Ordinal);
        var huge = new Dictionary<string, NpyArray> { ["episode_ends"] = new(new[] { 1L << 40 }, 1) };
        Assert.Contains("more than", Assert.Throws<InvalidDataException>(() => new ReplayBuffer(huge, "'d.npz'")).Message, StringComparison.Ordinal);
    }
}
