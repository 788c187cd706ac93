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
    public void Fill(int index, float[] column, int width, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(column);
        var (bufferStart, bufferEnd, sampleStart, sampleEnd) = windows[index];
        if (destination.Length < SequenceLength * width)
            throw new ArgumentException($"Destination holds {destination.Length} values; the window needs {SequenceLength * width}.", nameof(destination));
        var source = column.AsSpan(bufferStart * width, (bufferEnd - bufferStart) * width);
        source.CopyTo(destination[(sampleStart * width)..]);
        for (var t = 0; t < sampleStart; t++)
            source[..width].CopyTo(destination[(t * width)..]);
        for (var t = sampleEnd; t < SequenceLength; t++)
            source[^width..].CopyTo(destination[(t * width)..]);
    }
}
