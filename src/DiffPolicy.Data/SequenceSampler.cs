namespace DiffPolicy.Data;

/// <summary>
/// Fixed-length windows over the episodes of a <see cref="ReplayBuffer"/>, padded at the episode
/// edges by repeating the first/last step, exactly as DiffusionPolicy's <c>SequenceSampler</c>:
/// every start from −pad_before to length − sequence_length + pad_after is one sample.
/// </summary>
public sealed class SequenceSampler
{
    readonly (int BufferStart, int BufferEnd, int SampleStart, int SampleEnd)[] windows;

    public SequenceSampler(ReplayBuffer buffer, int sequenceLength, int padBefore, int padAfter, IReadOnlySet<int>? episodes = null)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequenceLength, 1);
        SequenceLength = sequenceLength;
        padBefore = Math.Clamp(padBefore, 0, sequenceLength - 1);
        padAfter = Math.Clamp(padAfter, 0, sequenceLength - 1);

        var list = new List<(int, int, int, int)>();
        for (var e = 0; e < buffer.Episodes; e++)
        {
            if (episodes != null && !episodes.Contains(e)) continue;
            var (start, end) = buffer.Episode(e);
            var length = end - start;
            for (var idx = -padBefore; idx <= length - sequenceLength + padAfter; idx++)
            {
                var bufferStart = Math.Max(idx, 0) + start;
                var bufferEnd = Math.Min(idx + sequenceLength, length) + start;
                var sampleStart = bufferStart - (idx + start);
                var sampleEnd = sequenceLength - ((idx + sequenceLength + start) - bufferEnd);
                list.Add((bufferStart, bufferEnd, sampleStart, sampleEnd));
            }
        }
        windows = [.. list];
    }

    public int Count => windows.Length;
    public int SequenceLength { get; }

    /// <summary>
    /// Copies window <paramref name="index"/> of a column (rows of <paramref name="width"/>) into
    /// <paramref name="destination"/> (SequenceLength × width), repeating edge rows as padding.
    /// </summary>
    public void Fill<T>(int index, T[] column, int width, Span<T> destination) => Fill(index, column, width, destination, SequenceLength);

    /// <summary>
    /// The first <paramref name="rows"/> rows of window <paramref name="index"/> (as DiffusionPolicy's <c>key_first_k</c>
    /// loads only n_obs_steps of an observation key), padded like <see cref="Fill{T}(int, T[], int, Span{T})"/>.
    /// </summary>
    public void Fill<T>(int index, T[] column, int width, Span<T> destination, int rows)
    {
        ArgumentNullException.ThrowIfNull(column);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, SequenceLength);
        var (bufferStart, bufferEnd, sampleStart, sampleEnd) = windows[index];
        if (destination.Length < rows * width)
            throw new ArgumentException($"Destination holds {destination.Length} values; the window needs {rows * width}.", nameof(destination));
        var source = column.AsSpan(bufferStart * width, (bufferEnd - bufferStart) * width);
        for (var t = 0; t < rows; t++)
        {
            var row = Math.Clamp(t, sampleStart, sampleEnd - 1) - sampleStart;
            source.Slice(row * width, width).CopyTo(destination[(t * width)..]);
        }
    }
}
