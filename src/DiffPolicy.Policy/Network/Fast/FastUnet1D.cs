using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using DiffPolicy.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network.Fast;

/// <summary>
/// <see cref="ConditionalUnet1D"/>'s inference on the CPU without libtorch: every convolution one
/// product against weights packed once (<see cref="Gemm"/>), GroupNorm + Mish + FiLM (+ the residual
/// sum) in one pass per convolution (<see cref="Elementwise"/>), activations time-major in buffers
/// planned per (rows, horizon) and reused, so a call allocates nothing after the first at its size.
/// Same values as the TorchSharp network up to float rounding (tests: ≤ 1e-5).
/// </summary>
/// <remarks>
/// <see cref="Denoise"/> may run on several threads at once (ParaDiGMS workers): each call takes a
/// workspace of its own from a pool. One call uses one thread.
/// </remarks>
public sealed unsafe class FastUnet1D : INoisePredictor, IDisposable
{
    readonly int kernel, groups, levels, stepDim, filmWidth;
    readonly int[] dims;                    // [input_dim, down_dims…]
    readonly PackedMatrix stepHidden, stepOutput, filmProjection;
    readonly Block[] downBlocks, midBlocks, upBlocks;   // two per level, in forward order
    readonly PackedMatrix[] downsample;                  // levels − 1
    readonly (PackedMatrix Even, PackedMatrix Odd)[] upsample;   // levels − 1
    readonly PackedMatrix finalConv, finalProjection;
    readonly NativeBuffer finalNorm;                     // γ then β
    readonly ConcurrentBag<Workspace> workspaces = [];
    readonly List<IDisposable> owned = [];
    bool disposed;

    public ConditionalUnet1DConfig Config { get; }

    /// <summary>Packs the weights of <paramref name="network"/> (which stays usable and owned by the caller).</summary>
    public static FastUnet1D FromNetwork(ConditionalUnet1D network)
    {
        ArgumentNullException.ThrowIfNull(network);
        using var scope = NewDisposeScope();
        var stateDict = network.state_dict();
        return new FastUnet1D(network.Config, key => stateDict.TryGetValue(key, out var t) ? t : null);
    }

    /// <param name="weight">The original state-dict entry for a key, or null when absent.</param>
    public FastUnet1D(ConditionalUnet1DConfig config, Func<string, Tensor?> weight)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weight);
        config.Validate();
        Config = config;
        kernel = config.KernelSize;
        groups = config.NGroups;
        levels = config.DownDims.Count;
        stepDim = config.DiffusionStepEmbedDim;
        dims = [config.InputDim, .. config.DownDims];
        try
        {
            float[] Read(string key, params long[] shape)
            {
                var tensor = weight(key) ?? throw new InvalidDataException($"The network has no '{key}'.");
                if (!tensor.shape.SequenceEqual(shape))
                    throw new InvalidDataException($"'{key}' is {Shapes.Format(tensor.shape)}, expected {Shapes.Format(shape)}.");
                using var values = tensor.detach().to(float32).cpu().contiguous();
                return values.data<float>().ToArray();
            }

            PackedMatrix Linear(string prefix, int inputs, int outputs)
            {
                var w = Read(prefix + ".weight", outputs, inputs);
                return Own(new PackedMatrix(inputs, outputs, (k, n) => w[n * inputs + k], Read(prefix + ".bias", outputs)));
            }

            PackedMatrix Conv(string prefix, int inputs, int outputs, int taps)
            {
                var w = Read(prefix + ".weight", outputs, inputs, taps);
                return Own(new PackedMatrix(taps * inputs, outputs, (k, n) => w[(n * inputs + k % inputs) * taps + k / inputs], Read(prefix + ".bias", outputs)));
            }

            NativeBuffer Norm(string prefix, int channels)
            {
                var buffer = Own(new NativeBuffer(2 * channels));
                Read(prefix + ".weight", channels).CopyTo(buffer.Span);
                Read(prefix + ".bias", channels).CopyTo(buffer.Span[channels..]);
                return buffer;
            }

            int condDim = config.CondDim, filmOffset = 0;
            var filmWeights = new List<(float[] W, float[] B, int Width)>();
            Block Residual(string prefix, int inputs, int outputs)
            {
                var width = config.CondPredictScale ? 2 * outputs : outputs;
                filmWeights.Add((Read(prefix + ".cond_encoder.1.weight", width, condDim), Read(prefix + ".cond_encoder.1.bias", width), width));
                var block = new Block(inputs, outputs, filmOffset,
                    Conv(prefix + ".blocks.0.block.0", inputs, outputs, kernel), Norm(prefix + ".blocks.0.block.1", outputs),
                    Conv(prefix + ".blocks.1.block.0", outputs, outputs, kernel), Norm(prefix + ".blocks.1.block.1", outputs),
                    inputs != outputs ? Conv(prefix + ".residual_conv", inputs, outputs, 1) : null);
                filmOffset += width;
                return block;
            }

            stepHidden = Linear("diffusion_step_encoder.1", stepDim, 4 * stepDim);
            stepOutput = Linear("diffusion_step_encoder.3", 4 * stepDim, stepDim);

            downBlocks = new Block[2 * levels];
            downsample = new PackedMatrix[levels - 1];
            for (var i = 0; i < levels; i++)
            {
                downBlocks[2 * i] = Residual($"down_modules.{i}.0", dims[i], dims[i + 1]);
                downBlocks[2 * i + 1] = Residual($"down_modules.{i}.1", dims[i + 1], dims[i + 1]);
                if (i < levels - 1) downsample[i] = Conv($"down_modules.{i}.2.conv", dims[i + 1], dims[i + 1], 3);
            }
            var top = dims[levels];
            midBlocks = [Residual("mid_modules.0", top, top), Residual("mid_modules.1", top, top)];
            upBlocks = new Block[2 * (levels - 1)];
            upsample = new (PackedMatrix, PackedMatrix)[levels - 1];
            for (var j = 0; j < levels - 1; j++)
            {
                int i = levels - 1 - j, dimIn = dims[i], dimOut = dims[i + 1];
                upBlocks[2 * j] = Residual($"up_modules.{j}.0", 2 * dimOut, dimIn);
                upBlocks[2 * j + 1] = Residual($"up_modules.{j}.1", dimIn, dimIn);
                // ConvTranspose1d(k 4, stride 2, padding 1), weight (C_in, C_out, 4): output 2m = W₃ᵀx[m−1] + W₁ᵀx[m],
                // output 2m+1 = W₂ᵀx[m] + W₀ᵀx[m+1]; each a two-tap window product.
                var w = Read($"up_modules.{j}.2.conv.weight", dimIn, dimIn, 4);
                var bias = Read($"up_modules.{j}.2.conv.bias", dimIn);
                var c = dimIn;
                upsample[j] = (
                    Own(new PackedMatrix(2 * c, c, (k, n) => w[((k % c) * c + n) * 4 + (k < c ? 3 : 1)], bias)),
                    Own(new PackedMatrix(2 * c, c, (k, n) => w[((k % c) * c + n) * 4 + (k < c ? 2 : 0)], bias)));
            }
            var start = dims[1];
            finalConv = Conv("final_conv.0.block.0", start, start, kernel);
            finalNorm = Norm("final_conv.0.block.1", start);
            finalProjection = Conv("final_conv.1", start, config.InputDim, 1);

            // All blocks' FiLM encoders as one product: cond (condDim) → every block's [scale, bias].
            filmWidth = filmOffset;
            var columnOwner = new (int Block, int Column)[filmWidth];
            for (int b = 0, n = 0; b < filmWeights.Count; b++)
                for (var j = 0; j < filmWeights[b].Width; j++) columnOwner[n++] = (b, j);
            var filmBias = filmWeights.SelectMany(f => f.B).ToArray();
            filmProjection = Own(new PackedMatrix(condDim, filmWidth,
                (k, n) => filmWeights[columnOwner[n].Block].W[columnOwner[n].Column * condDim + k], filmBias));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    T Own<T>(T resource) where T : IDisposable
    {
        owned.Add(resource);
        return resource;
    }

    /// <summary>Step embedding, the step encoder and every block's FiLM encoder for rows (timestep[i], globalCond[i]).</summary>
    public INoiseConditioning Condition(Tensor timestep, Tensor globalCond)
    {
        ArgumentNullException.ThrowIfNull(timestep);
        ArgumentNullException.ThrowIfNull(globalCond);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (timestep.dim() != 1)
            throw new ArgumentException($"timestep must be (B,), got {Shapes.Format(timestep.shape)}.", nameof(timestep));
        var rows = checked((int)timestep.shape[0]);
        if (globalCond.dim() != 2 || globalCond.shape[0] != rows || globalCond.shape[1] != Config.GlobalCondDim)
        {
            throw new ArgumentException(
                $"global_cond must be ({rows}, {Config.GlobalCondDim}), got {Shapes.Format(globalCond.shape)}.", nameof(globalCond));
        }

        float[] steps, observations;
        using (var scope = NewDisposeScope())
        {
            steps = timestep.to(float32).cpu().contiguous().data<float>().ToArray();
            observations = globalCond.to(float32).cpu().contiguous().data<float>().ToArray();
        }

        int condDim = Config.CondDim, half = stepDim / 2, globalDim = Config.GlobalCondDim;
        using var hidden = new NativeBuffer((long)rows * 4 * stepDim);
        using var cond = new NativeBuffer((long)rows * condDim);
        var film = new NativeBuffer((long)rows * filmWidth);
        var c = cond.Pointer;
        // SinusoidalPosEmb in float32 as the original: f_i = exp(i · −ln(10000)/(half − 1)), [sin(t·f), cos(t·f)].
        var rate = (float)(-Math.Log(10000) / (half - 1));
        for (var r = 0; r < rows; r++)
        {
            var row = c + (long)r * condDim;
            for (var i = 0; i < half; i++)
            {
                var angle = steps[r] * MathF.Exp(i * rate);
                row[i] = MathF.Sin(angle);
                row[half + i] = MathF.Cos(angle);
            }
        }
        // The embedding goes in as it is; the step encoder's output overwrites it in the same row (stepDim wide).
        var embedding = new Activations(c, 1, stepDim, condDim, 0, condDim);
        var inner = new Activations(hidden.Pointer, 1, 4 * stepDim, 4 * stepDim, 0, 4 * stepDim);
        Gemm.Convolve(embedding, stepHidden, 1, 1, 0, inner, rows, 1);
        Elementwise.Mish(hidden.Pointer, rows * 4 * stepDim);
        Gemm.Convolve(inner, stepOutput, 1, 1, 0, embedding, rows, 1);
        for (var r = 0; r < rows; r++)
            observations.AsSpan(r * globalDim, globalDim).CopyTo(new Span<float>(c + (long)r * condDim + stepDim, globalDim));
        Elementwise.Mish(c, rows * condDim);   // each block's cond_encoder starts with Mish
        Gemm.Convolve(new Activations(c, 1, condDim, condDim, 0, condDim), filmProjection, 1, 1, 0,
            new Activations(film.Pointer, 1, filmWidth, filmWidth, 0, filmWidth), rows, 1);
        return new FastConditioning(this, film, 0, rows, ownsFilm: true);
    }

    /// <summary>The network's output for <paramref name="sample"/>, (B, T, input_dim) float32 on the CPU.</summary>
    public Tensor Denoise(Tensor sample, INoiseConditioning conditioning)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (conditioning is not FastConditioning rows || rows.Owner != this)
            throw new ArgumentException("The conditioning was not made by this network.", nameof(conditioning));
        var factor = Config.LengthMultiple;
        if (sample.dim() != 3 || sample.shape[0] != rows.Rows || sample.shape[2] != Config.InputDim || sample.shape[1] % factor != 0 || sample.shape[1] == 0)
        {
            throw new ArgumentException(
                $"sample must be ({rows.Rows}, T, {Config.InputDim}) with T a positive multiple of {factor}, got {Shapes.Format(sample.shape)}.", nameof(sample));
        }

        if (sample.device_type != DeviceType.CPU)
            throw new ArgumentException($"The fast CPU network takes CPU tensors, got one on {sample.device}.", nameof(sample));
        ObjectDisposedException.ThrowIf(rows.Film.Pointer == null, conditioning);
        int count = (int)rows.Rows, length = (int)sample.shape[1];
        var output = empty(sample.shape, float32);
        using (var input = sample.to(float32).contiguous())
        {
            var workspace = workspaces.TryTake(out var w) ? w : new Workspace(this);
            try
            {
                fixed (byte* x = input.bytes)
                fixed (byte* y = output.bytes)
                    Forward((float*)x, rows.Film.Pointer + rows.Start * filmWidth, (float*)y, count, length, workspace);
            }
            finally
            {
                workspaces.Add(workspace);
            }
        }
        return output;
    }

    void Forward(float* input, float* film, float* output, int rows, int length, Workspace w)
    {
        w.Plan(rows, length);
        var a = Config.InputDim;
        var x = w.Input.View(0, a);
        for (var r = 0; r < rows; r++)
        {
            for (var t = 0; t < length; t++)
                new ReadOnlySpan<float>(input + ((long)r * length + t) * a, a).CopyTo(new Span<float>(x.Row(r, t), a));
        }

        for (var i = 0; i < levels; i++)
        {
            var channels = dims[i + 1];
            var between = w.Between(length >> i, channels);
            var skip = i == 0 ? w.Skip.View(0, channels) : w.Concat[i]!.View(channels, channels);
            Residual(downBlocks[2 * i], x, between, film, rows, w);
            Residual(downBlocks[2 * i + 1], between, skip, film, rows, w);
            if (i < levels - 1)
            {
                x = w.Level[i + 1]!.View(0, channels);
                Gemm.Convolve(skip, downsample[i], 3, 2, 1, x, rows, x.Length);
            }
            else
            {
                x = skip;
            }
        }

        var top = dims[levels];
        var midBetween = w.Between(x.Length, top);
        var midOutput = levels > 1 ? w.Concat[levels - 1]!.View(0, top) : w.Final.View(0, top);
        Residual(midBlocks[0], x, midBetween, film, rows, w);
        Residual(midBlocks[1], midBetween, midOutput, film, rows, w);

        for (var j = 0; j < levels - 1; j++)
        {
            int i = levels - 1 - j, channels = dims[i];
            var concatenated = w.Concat[i]!.View(0, 2 * dims[i + 1]);
            var between = w.Between(concatenated.Length, channels);
            var upsampleInput = w.Outer(concatenated.Length, channels);
            Residual(upBlocks[2 * j], concatenated, between, film, rows, w);
            Residual(upBlocks[2 * j + 1], between, upsampleInput, film, rows, w);
            var target = i > 1 ? w.Concat[i - 1]!.View(0, channels) : w.Final.View(0, channels);
            Gemm.Convolve(upsampleInput, upsample[j].Even, 2, 1, 1, target, rows, upsampleInput.Length, 2, 0);
            Gemm.Convolve(upsampleInput, upsample[j].Odd, 2, 1, 0, target, rows, upsampleInput.Length, 2, 1);
        }

        var start = dims[1];
        var final = w.Final.View(0, start);
        var h = w.Raw(length, start);
        var normed = w.Inner(length, start);
        Gemm.Convolve(final, finalConv, kernel, 1, kernel / 2, h, rows, length);
        Elementwise.NormMish(h, finalNorm.Pointer, finalNorm.Pointer + start, groups, null, 0, false, normed, rows, accumulate: false);
        Gemm.Convolve(normed, finalProjection, 1, 1, 0, new Activations(output, length, a, a, 0, (long)length * a), rows, length);
    }

    /// <summary>ConditionalResidualBlock1D: y = Mish(GN(conv₁(FiLM(Mish(GN(conv₀ x)))))) + residual(x).</summary>
    void Residual(Block block, Activations x, Activations y, float* film, int rows, Workspace w)
    {
        int length = x.Length, pad = kernel / 2;
        var h = w.Raw(length, block.Outputs);
        var inner = w.Inner(length, block.Outputs);
        var norms = block.Norms;
        Gemm.Convolve(x, block.Conv0, kernel, 1, pad, h, rows, length);
        Elementwise.NormMish(h, norms[0].Pointer, norms[0].Pointer + block.Outputs, groups, film + block.FilmOffset, filmWidth,
            Config.CondPredictScale, inner, rows, accumulate: false);
        Gemm.Convolve(inner, block.Conv1, kernel, 1, pad, h, rows, length);
        if (block.ResidualConv is { } projection)
        {
            Gemm.Convolve(x, projection, 1, 1, 0, y, rows, length);
        }
        else
        {
            for (var r = 0; r < rows; r++)
            {
                for (var t = 0; t < length; t++)
                    new ReadOnlySpan<float>(x.Row(r, t), x.Channels).CopyTo(new Span<float>(y.Row(r, t), y.Channels));
            }
        }
        Elementwise.NormMish(h, norms[1].Pointer, norms[1].Pointer + block.Outputs, groups, null, 0, false, y, rows, accumulate: true);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var resource in owned) resource.Dispose();
        while (workspaces.TryTake(out var workspace)) workspace.Dispose();
    }

    sealed record Block(int Inputs, int Outputs, int FilmOffset, PackedMatrix Conv0, NativeBuffer Norm0, PackedMatrix Conv1, NativeBuffer Norm1, PackedMatrix? ResidualConv)
    {
        public NativeBuffer[] Norms { get; } = [Norm0, Norm1];
    }

    /// <summary>A set of rows' FiLM parameters: row i at Film + (Start + i)·width.</summary>
    /// <summary>The parts' FiLM rows copied one after another into a buffer of their own (a view of the one part when there is one).</summary>
    public INoiseConditioning Concat(IReadOnlyList<INoiseConditioning> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        ObjectDisposedException.ThrowIf(disposed, this);
        var rows = parts.Select(p => p is FastConditioning f && f.Owner == this ? f : throw new ArgumentException("The conditioning was not made by this network.", nameof(parts))).ToList();
        if (rows.Count == 0) throw new ArgumentException("nothing to concatenate", nameof(parts));
        if (rows.Count == 1) return rows[0].Narrow(0, rows[0].Rows);
        var total = rows.Sum(r => r.Rows);
        var film = new NativeBuffer(total * filmWidth);
        long at = 0;
        foreach (var part in rows)
        {
            var length = part.Rows * filmWidth;
            System.Buffer.MemoryCopy(part.Film.Pointer + part.Start * filmWidth, film.Pointer + at, (total * filmWidth - at) * sizeof(float), length * sizeof(float));
            at += length;
        }
        return new FastConditioning(this, film, 0, total, ownsFilm: true);
    }

    sealed class FastConditioning(FastUnet1D owner, NativeBuffer film, long start, long rows, bool ownsFilm) : INoiseConditioning
    {
        public FastUnet1D Owner { get; } = owner;
        public NativeBuffer Film { get; } = film;
        public long Start { get; } = start;
        public long Rows { get; } = rows;

        public INoiseConditioning Narrow(long start, long length)
        {
            if (start < 0 || length < 1 || start + length > Rows)
                throw new ArgumentOutOfRangeException(nameof(length), $"rows [{start}, {start + length}) outside [0, {Rows}).");
            return new FastConditioning(Owner, Film, Start + start, length, ownsFilm: false);
        }

        public void Dispose()
        {
            if (ownsFilm) Film.Dispose();
        }
    }

    /// <summary>One zero-padded activation buffer for up to Capacity samples of a fixed length and width.</summary>
    sealed class Buffer(int capacity, int length, int ld, int pad) : IDisposable
    {
        readonly NativeBuffer memory = new((long)capacity * (length + 2 * pad) * ld);
        public int Capacity { get; } = capacity;

        public Activations View(int offset, int channels) =>
            new(memory.Pointer + offset, length, channels, ld, pad, (long)(length + 2 * pad) * ld);

        public void Dispose() => memory.Dispose();
    }

    /// <summary>
    /// The buffers of one forward at a (rows, horizon): level inputs, the concatenations the up path
    /// reads (its skip half written by the down path), and temporaries shared by blocks of the same
    /// shape. Pad rows are never written, so they stay zero across calls.
    /// </summary>
    sealed class Workspace(FastUnet1D network) : IDisposable
    {
        readonly Dictionary<(int Role, int Length, int Channels), Buffer> temporaries = [];
        int capacity, horizon = -1;
        NativeBuffer? raw;

        public Buffer Input { get; private set; } = null!;
        public Buffer Skip { get; private set; } = null!;
        public Buffer Final { get; private set; } = null!;
        public Buffer?[] Level { get; private set; } = [];
        public Buffer?[] Concat { get; private set; } = [];

        int Pad => Math.Max(network.kernel / 2, 1);

        public void Plan(int rows, int length)
        {
            if (rows <= capacity && length == horizon) return;
            Release();
            capacity = Math.Max(rows, capacity);
            horizon = length;
            var d = network.dims;
            var levels = network.levels;
            Input = new Buffer(capacity, length, d[0], Pad);
            Skip = new Buffer(capacity, length, d[1], Pad);
            Final = new Buffer(capacity, length, levels > 1 ? d[1] : d[levels], Pad);
            Level = new Buffer?[levels];
            Concat = new Buffer?[levels];
            for (var i = 1; i < levels; i++)
            {
                Level[i] = new Buffer(capacity, length >> i, d[i], Pad);
                Concat[i] = new Buffer(capacity, length >> i, 2 * d[i + 1], Pad);
            }
            long largest = 0;
            for (var i = 0; i < levels; i++) largest = Math.Max(largest, (long)(length >> i) * Math.Max(d[i + 1], d[Math.Max(i, 1)]));
            raw = new NativeBuffer(capacity * largest);
        }

        /// <summary>A convolution's output before normalisation: read once, so unpadded.</summary>
        public Activations Raw(int length, int channels) => new(raw!.Pointer, length, channels, channels, 0, (long)length * channels);

        /// <summary>The normalised, FiLM-ed activations inside a residual block.</summary>
        public Activations Inner(int length, int channels) => Temporary(0, length, channels);

        /// <summary>The output of a level's first residual block.</summary>
        public Activations Between(int length, int channels) => Temporary(1, length, channels);

        /// <summary>The output of an up level's second residual block (the upsampling's input).</summary>
        public Activations Outer(int length, int channels) => Temporary(2, length, channels);

        Activations Temporary(int role, int length, int channels)
        {
            if (!temporaries.TryGetValue((role, length, channels), out var buffer))
                temporaries[(role, length, channels)] = buffer = new Buffer(capacity, length, channels, Pad);
            return buffer.View(0, channels);
        }

        void Release()
        {
            foreach (var buffer in temporaries.Values) buffer.Dispose();
            temporaries.Clear();
            Input?.Dispose();
            Skip?.Dispose();
            Final?.Dispose();
            foreach (var buffer in Level.Concat(Concat)) buffer?.Dispose();
            raw?.Dispose();
        }

        public void Dispose() => Release();
    }
}
