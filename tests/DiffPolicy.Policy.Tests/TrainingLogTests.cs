using DiffPolicy.Policy.Training;

namespace DiffPolicy.Policy.Tests;

/// <summary>log.csv: written and read by one type (<see cref="TrainingLog"/>).</summary>
public sealed class TrainingLogTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("log-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    public static TheoryData<TrainingLogRow> Rows => new()
    {
        new TrainingLogRow(1, 1.0370000600814819, 2.5e-5, null, null, 0.3),
        new TrainingLogRow(250, 0.031415926535897934, 9.99993683e-5, 0.0271828182845904, null, 61.2),
        new TrainingLogRow(8000, 1e-300, 0, 5e-324, 0.8750000000000001, 12345.6),
        new TrainingLogRow(7, double.MaxValue, double.Epsilon, null, 1, 0),
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void A_row_reads_back_as_written(TrainingLogRow row) => Assert.Equal(row, TrainingLog.Parse(TrainingLog.Format(row)));

    [Fact]
    public void The_format_is_the_documented_csv()
    {
        Assert.Equal("step,loss,lr,val_loss,score,elapsed_s", TrainingLog.Header);
        Assert.Equal("250,0.5,0.0001,,0.25,61.2", TrainingLog.Format(new TrainingLogRow(250, 0.5, 1e-4, null, 0.25, 61.24)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("12,0.5,0.0001,,")]
    [InlineData("12,0.5,0.000")]
    [InlineData("step,loss,lr,val_loss,score,elapsed_s")]
    [InlineData("-3,0.5,0.0001,,,1.0")]
    [InlineData("3,abc,0.0001,,,1.0")]
    public void A_line_cut_by_a_crash_is_not_a_row(string line) => Assert.Null(TrainingLog.Parse(line));

    [Fact]
    public void Restarting_keeps_rows_up_to_the_saved_step_and_drops_a_cut_line()
    {
        var path = Path.Combine(folder, "log.csv");
        TrainingLog.Restart(path, 0);
        for (var step = 1; step <= 6; step++) TrainingLog.Append(path, new TrainingLogRow(step, 1.0 / step, 1e-4, null, null, step));
        File.AppendAllText(path, "7,0.14");
        Assert.Equal(6, TrainingLog.Read(path).Count);
        TrainingLog.Restart(path, 4);
        Assert.Equal([1, 2, 3, 4], TrainingLog.Read(path).Select(r => r.Step));
        Assert.Equal(0.25, TrainingLog.Read(path)[3].Loss);
        TrainingLog.Restart(path, 0);
        Assert.Empty(TrainingLog.Read(path));
    }

    [Fact]
    public void A_file_without_the_header_is_refused_naming_it()
    {
        var path = Path.Combine(folder, "other.csv");
        File.WriteAllText(path, "a,b\n1,2\n");
        Assert.Contains("other.csv", Assert.Throws<InvalidDataException>(() => TrainingLog.Read(path)).Message, StringComparison.Ordinal);
    }
}
