namespace DiffPolicy.Sim.PushT.Rendering;

/// <summary>
/// A minimal animated GIF89a encoder: one global palette (the frames' exact colours, up to 256; any further
/// colour maps to its nearest palette entry), LZW-compressed frames, a fixed frame delay and endless looping.
/// Suited to flat-shaded scenes such as PushT, which use a dozen colours.
/// </summary>
public sealed class GifWriter
{
    readonly int width;
    readonly int height;
    readonly int delayCentiseconds;
    readonly List<byte[]> frames = [];

    public GifWriter(int width, int height, int delayCentiseconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        this.width = width;
        this.height = height;
        this.delayCentiseconds = delayCentiseconds;
    }

    public int Frames => frames.Count;

    /// <summary>Adds a frame given as RGBA bytes, row-major.</summary>
    public void Add(ReadOnlySpan<byte> rgba)
    {
        if (rgba.Length != width * height * 4)
        {
            throw new ArgumentException($"expected {width * height * 4} RGBA bytes, got {rgba.Length}", nameof(rgba));
        }
        frames.Add(rgba.ToArray());
    }

    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (frames.Count == 0)
        {
            throw new InvalidOperationException("a GIF needs at least one frame");
        }
        var palette = BuildPalette();
        var lookup = new Dictionary<int, byte>();
        using var w = new BinaryWriter(stream, System.Text.Encoding.ASCII, leaveOpen: true);
        w.Write("GIF89a"u8);
        w.Write((ushort)width);
        w.Write((ushort)height);
        w.Write((byte)0xF7); // global colour table of 256 entries, 8 bits per channel
        w.Write((byte)0);
        w.Write((byte)0);
        for (var i = 0; i < 256; i++)
        {
            var c = i < palette.Count ? palette[i] : 0;
            w.Write((byte)(c >> 16));
            w.Write((byte)(c >> 8));
            w.Write((byte)c);
        }
        // NETSCAPE2.0 extension: loop forever.
        w.Write([0x21, 0xFF, 0x0B]);
        w.Write("NETSCAPE2.0"u8);
        w.Write([0x03, 0x01, 0x00, 0x00, 0x00]);
        var indices = new byte[width * height];
        foreach (var frame in frames)
        {
            w.Write([0x21, 0xF9, 0x04, 0x04]); // graphic control: leave frame in place
            w.Write((ushort)delayCentiseconds);
            w.Write([0x00, 0x00]);
            w.Write((byte)0x2C);
            w.Write((ushort)0);
            w.Write((ushort)0);
            w.Write((ushort)width);
            w.Write((ushort)height);
            w.Write((byte)0);
            for (var p = 0; p < indices.Length; p++)
            {
                var rgb = (frame[4 * p] << 16) | (frame[4 * p + 1] << 8) | frame[4 * p + 2];
                if (!lookup.TryGetValue(rgb, out var index))
                {
                    index = Nearest(palette, rgb);
                    lookup[rgb] = index;
                }
                indices[p] = index;
            }
            w.Write((byte)8);
            WriteLzw(w, indices);
        }
        w.Write((byte)0x3B);
    }

    List<int> BuildPalette()
    {
        var counts = new Dictionary<int, int>();
        foreach (var frame in frames)
        {
            for (var p = 0; p < frame.Length; p += 4)
            {
                var rgb = (frame[p] << 16) | (frame[p + 1] << 8) | frame[p + 2];
                counts[rgb] = counts.GetValueOrDefault(rgb) + 1;
            }
        }
        return [.. counts.OrderByDescending(kv => kv.Value).Take(256).Select(kv => kv.Key)];
    }

    static byte Nearest(List<int> palette, int rgb)
    {
        var best = 0;
        var bestDistance = int.MaxValue;
        for (var i = 0; i < palette.Count; i++)
        {
            var dr = ((palette[i] >> 16) & 255) - ((rgb >> 16) & 255);
            var dg = ((palette[i] >> 8) & 255) - ((rgb >> 8) & 255);
            var db = (palette[i] & 255) - (rgb & 255);
            var d = dr * dr + dg * dg + db * db;
            if (d < bestDistance)
            {
                bestDistance = d;
                best = i;
            }
        }
        return (byte)best;
    }

    /// <summary>GIF's variable-width LZW (minimum code size 8), packed LSB first into 255-byte sub-blocks.</summary>
    static void WriteLzw(BinaryWriter w, byte[] indices)
    {
        const int MinCodeSize = 8;
        const int ClearCode = 1 << MinCodeSize;
        const int EndCode = ClearCode + 1;
        var output = new BitPacker(w);
        var table = new Dictionary<int, int>();
        var codeSize = MinCodeSize + 1;
        var lastCode = EndCode;
        output.Write(ClearCode, codeSize);
        var prefix = (int)indices[0];
        for (var i = 1; i < indices.Length; i++)
        {
            var key = (prefix << 8) | indices[i];
            if (table.TryGetValue(key, out var code))
            {
                prefix = code;
                continue;
            }
            output.Write(prefix, codeSize);
            table[key] = ++lastCode;
            if (lastCode >= 1 << codeSize)
            {
                codeSize++;
            }
            if (lastCode == 4095)
            {
                output.Write(ClearCode, codeSize);
                table.Clear();
                codeSize = MinCodeSize + 1;
                lastCode = EndCode;
            }
            prefix = indices[i];
        }
        output.Write(prefix, codeSize);
        output.Write(EndCode, codeSize);
        output.Flush();
    }

    sealed class BitPacker(BinaryWriter writer)
    {
        readonly byte[] block = new byte[255];
        int blockLength;
        int bitBuffer;
        int bitCount;

        public void Write(int code, int size)
        {
            bitBuffer |= code << bitCount;
            bitCount += size;
            while (bitCount >= 8)
            {
                Emit((byte)bitBuffer);
                bitBuffer >>= 8;
                bitCount -= 8;
            }
        }

        public void Flush()
        {
            if (bitCount > 0)
            {
                Emit((byte)bitBuffer);
                bitBuffer = 0;
                bitCount = 0;
            }
            FlushBlock();
            writer.Write((byte)0);
        }

        void Emit(byte b)
        {
            block[blockLength++] = b;
            if (blockLength == 255)
            {
                FlushBlock();
            }
        }

        void FlushBlock()
        {
            if (blockLength > 0)
            {
                writer.Write((byte)blockLength);
                writer.Write(block, 0, blockLength);
                blockLength = 0;
            }
        }
    }
}
