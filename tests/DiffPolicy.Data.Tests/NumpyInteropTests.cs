using System.Diagnostics;
using System.Globalization;

namespace DiffPolicy.Data.Tests;

/// <summary>Our .npz against numpy itself (Debian's python3-numpy, installed by .ci/run).</summary>
public sealed class NumpyInteropTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("npz-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Numpy_reads_what_we_write(bool compress)
    {
        var path = Path.Combine(dir, "ours.npz");
        Npz.Save(path, new Dictionary<string, NpyArray>
        {
            ["state"] = new(new[] { 1.5f, -2.25f, 3e-7f, 4f, 5f, 6f }, 3, 2),
            ["keypoint"] = new(Enumerable.Range(0, 24).Select(i => i * 0.5f).ToArray(), 2, 6, 2),
            ["episode_ends"] = new(new long[] { 1, 3 }, 2),
            ["img"] = new(new byte[] { 0, 255, 7 }, 3),
            ["ret"] = new(new[] { Math.PI }, 1),
        }, compress);

        var report = NumpyPython.Run($$"""
            import numpy as np
            d = np.load(r'{{path}}')
            assert sorted(d.files) == ['episode_ends', 'img', 'keypoint', 'ret', 'state'], d.files
            assert d['state'].dtype == np.float32 and d['state'].shape == (3, 2)
            assert d['state'].tolist() == np.array([[1.5, -2.25], [3e-7, 4], [5, 6]], dtype=np.float32).tolist()
            assert d['keypoint'].shape == (2, 6, 2) and d['keypoint'][1, 5, 1] == 11.5
            assert d['episode_ends'].dtype == np.int64 and d['episode_ends'].tolist() == [1, 3]
            assert d['img'].dtype == np.uint8 and d['img'].tolist() == [0, 255, 7]
            assert d['ret'].dtype == np.float64 and d['ret'][0] == np.pi
            print('ok')
            """);
        Assert.Equal("ok", report.Trim());
    }

    [Fact]
    public void We_read_what_numpy_writes()
    {
        var path = Path.Combine(dir, "numpy.npz");
        NumpyPython.Run($$"""
            import numpy as np
            np.savez_compressed(r'{{path}}',
                action=np.arange(12, dtype=np.float32).reshape(6, 2) / 4,
                episode_ends=np.array([2, 6]),
                f64=np.array([[np.e]]),
                i32=np.array([-3, 9], dtype=np.int32))
            """);
        var arrays = Npz.Load(path);
        Assert.Equal([6, 2], arrays["action"].Shape);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i / 4f), arrays["action"].ToFloat32());
        Assert.Equal(new long[] { 2, 6 }, arrays["episode_ends"].ToInt64());
        Assert.Equal(Math.E, ((double[])arrays["f64"].Data)[0]);
        Assert.Equal([1, 1], arrays["f64"].Shape);
        Assert.Equal(new[] { -3, 9 }, (int[])arrays["i32"].Data);
    }

    [Fact]
    public void Unsupported_or_broken_files_get_clear_errors()
    {
        var fortran = Path.Combine(dir, "fortran.npz");
        var text = Path.Combine(dir, "text.npz");
        NumpyPython.Run($$"""
            import numpy as np
            np.savez(r'{{fortran}}', a=np.asfortranarray(np.ones((2, 3), dtype=np.float32)))
            """);
        File.WriteAllText(text, "not a zip");

        Assert.Contains("Fortran", Assert.Throws<InvalidDataException>(() => Npz.Load(fortran)).Message, StringComparison.Ordinal);
        Assert.Contains("not an .npz", Assert.Throws<InvalidDataException>(() => Npz.Load(text)).Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => Npz.Load(Path.Combine(dir, "missing.npz")));
    }
}
