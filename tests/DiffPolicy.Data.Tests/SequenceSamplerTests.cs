namespace DiffPolicy.Data.Tests;

/// <summary>
/// DiffusionPolicy's padded windows, restated independently: a window starting at offset s of an
/// episode of length L holds rows clamp(s + t, 0, L − 1), for s from −pad_before to
/// L − horizon + pad_after.
/// </summary>
public class SequenceSamplerTests
{
    static ReplayBuffer Buffer(params int[] lengths)
    {
        var steps = lengths.Sum();
        var ends = new long[lengths.Length];
        long end = 0;
        for (var e = 0; e < lengths.Length; e++) ends[e] = end += lengths[e];
        var state = new float[steps * 2];
        for (var i = 0; i < steps; i++) (state[2 * i], state[2 * i + 1]) = (i, -i);
        return new ReplayBuffer(new Dictionary<string, NpyArray>
        {
            ["state"] = new(state, steps, 2),
            ["episode_ends"] = new(ends, lengths.Length),
        });
    }

    [Theory]
    [InlineData(16, 1, 7)]   // PushT: horizon 16, pad_before = n_obs_steps − 1, pad_after = n_action_steps − 1
    [InlineData(4, 0, 0)]
    [InlineData(4, 3, 3)]
    public void Windows_are_clamped_index_views_of_each_episode(int horizon, int padBefore, int padAfter)
    {
        int[] lengths = [3, 20, 9];
        var buffer = Buffer(lengths);
        var sampler = new SequenceSampler(buffer, horizon, padBefore, padAfter);
        var column = buffer.Column("state", out var width);
        Assert.Equal(2, width);

        var window = new float[horizon * width];
        var index = 0;
        var start = 0;
        foreach (var length in lengths)
        {
            for (var s = -padBefore; s <= length - horizon + padAfter; s++, index++)
            {
                sampler.Fill(index, column, width, window);
                for (var t = 0; t < horizon; t++)
                {
                    var row = start + Math.Clamp(s + t, 0, length - 1);
                    Assert.Equal(row, window[2 * t]);
                    Assert.Equal(-row, window[2 * t + 1]);
                }
            }
            start += length;
        }
        Assert.Equal(index, sampler.Count);
    }

    [Fact]
    public void The_first_rows_of_a_window_and_byte_columns_follow_the_same_clamped_rows()
    {
        // As DiffusionPolicy's key_first_k: only the first n_obs_steps rows of an observation key, padded alike.
        int[] lengths = [3, 20, 9];
        var buffer = Buffer(lengths);
        var sampler = new SequenceSampler(buffer, 16, 1, 7);
        var column = buffer.Column("state", out var width);
        var bytes = Array.ConvertAll(column, v => (byte)Math.Abs(v));
        var full = new float[16 * width];
        var firstTwo = new float[2 * width];
        var firstTwoBytes = new byte[2 * width];
        for (var index = 0; index < sampler.Count; index++)
        {
            sampler.Fill(index, column, width, full);
            sampler.Fill(index, column, width, firstTwo, rows: 2);
            sampler.Fill(index, bytes, width, firstTwoBytes, rows: 2);
            Assert.Equal(full[..(2 * width)], firstTwo);
            Assert.Equal(Array.ConvertAll(firstTwo, v => (byte)Math.Abs(v)), firstTwoBytes);
        }
    }

    [Fact]
    public void Episode_subset_selects_only_those_episodes()
    {
        var buffer = Buffer(5, 6, 7);
        var all = new SequenceSampler(buffer, 4, 1, 3);
        var middle = new SequenceSampler(buffer, 4, 1, 3, new HashSet<int> { 1 });
        Assert.Equal(6 - 4 + 3 + 1 + 1, middle.Count);
        Assert.Equal((5 + 6 + 7) + 3 * (3 + 1 + 1 - 4), all.Count);
    }

    [Fact]
    public void Inconsistent_datasets_are_refused()
    {
        Assert.Throws<InvalidDataException>(() => new ReplayBuffer(new Dictionary<string, NpyArray>
        {
            ["state"] = new(new float[10], 5, 2),
        }));
        Assert.Throws<InvalidDataException>(() => new ReplayBuffer(new Dictionary<string, NpyArray>
        {
            ["state"] = new(new float[10], 5, 2),
            ["episode_ends"] = new(new long[] { 2, 4 }, 2),
        }));
        Assert.Throws<InvalidDataException>(() => new ReplayBuffer(new Dictionary<string, NpyArray>
        {
            ["state"] = new(new float[10], 5, 2),
            ["episode_ends"] = new(new long[] { 3, 3, 5 }, 3),
        }));
    }
}
