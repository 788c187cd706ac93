using DiffPolicy.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// DiffusionPolicy's noise-prediction network (DP-C): a 1-D temporal U-Net over the action
/// trajectory, FiLM-conditioned on the diffusion step and the observation features. Submodule and
/// parameter names equal the original's state-dict keys.
/// </summary>
public sealed class ConditionalUnet1D : nn.Module<Tensor, Tensor, Tensor, Tensor>, INoisePredictor
{
#pragma warning disable IDE1006 // field names are the PyTorch state-dict keys
    readonly Sequential diffusion_step_encoder;
    readonly ModuleList<UnetLevel> down_modules;
    readonly ModuleList<ConditionalResidualBlock1D> mid_modules;
    readonly ModuleList<UnetLevel> up_modules;
    readonly Sequential final_conv;
#pragma warning restore IDE1006

    // final_conv's modules, typed; a tuple is not registered as a component, so the keys stay final_conv.N.
    readonly (Conv1dBlock Block, Conv1d Projection) output;

    public ConditionalUnet1DConfig Config { get; }

    public ConditionalUnet1D(ConditionalUnet1DConfig config) : base(nameof(ConditionalUnet1D))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int d = config.DiffusionStepEmbedDim, k = config.KernelSize, g = config.NGroups, cond = config.CondDim;
        var scale = config.CondPredictScale;
        ConditionalResidualBlock1D Residual(int inChannels, int outChannels) =>
            new(inChannels, outChannels, cond, k, g, scale);

        diffusion_step_encoder = nn.Sequential(new SinusoidalPosEmb(d), nn.Linear(d, 4 * d), nn.Mish(), nn.Linear(4 * d, d));

        int[] dims = [config.InputDim, .. config.DownDims];
        var levels = config.DownDims.Count;
        down_modules = nn.ModuleList<UnetLevel>();
        for (var i = 0; i < levels; i++)
        {
            var last = i == levels - 1;
            down_modules.Add(new UnetLevel(
                Residual(dims[i], dims[i + 1]),
                Residual(dims[i + 1], dims[i + 1]),
                last ? nn.Identity() : new Downsample1d(dims[i + 1])));
        }

        var top = dims[^1];
        mid_modules = nn.ModuleList(Residual(top, top), Residual(top, top));

        // Levels in reverse except the first; every one upsamples (the original's is_last never fires).
        up_modules = nn.ModuleList<UnetLevel>();
        for (var i = levels - 1; i >= 1; i--)
        {
            int dimIn = dims[i], dimOut = dims[i + 1];
            up_modules.Add(new UnetLevel(Residual(2 * dimOut, dimIn), Residual(dimIn, dimIn), new Upsample1d(dimIn)));
        }

        var start = config.DownDims[0];
        output = (new Conv1dBlock(start, start, k, g), nn.Conv1d(start, config.InputDim, 1));
        final_conv = nn.Sequential(output.Block, output.Projection);
        RegisterComponents();
    }

    /// <summary>Predicts the noise (or the clean sample, as trained) of <paramref name="sample"/>.</summary>
    /// <param name="sample">(B, T, input_dim) noisy action trajectory; T a multiple of 2^(levels−1).</param>
    /// <param name="timestep">(B,) diffusion steps (integer or float).</param>
    /// <param name="globalCond">(B, global_cond_dim) observation features.</param>
    /// <returns>(B, T, input_dim).</returns>
    public override Tensor forward(Tensor sample, Tensor timestep, Tensor globalCond)
    {
        using var scope = NewDisposeScope();
        return Denoise(sample, Condition(timestep, globalCond)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The FiLM parameters of every residual block for each row (timestep[i], globalCond[i]): the part of
    /// <see cref="forward"/> that does not depend on the sample.
    /// </summary>
    /// <param name="timestep">(R,) diffusion steps.</param>
    /// <param name="globalCond">(R, global_cond_dim).</param>
    public FilmConditioning Condition(Tensor timestep, Tensor globalCond)
    {
        ArgumentNullException.ThrowIfNull(timestep);
        ArgumentNullException.ThrowIfNull(globalCond);
        if (timestep.dim() != 1)
            throw new ArgumentException($"timestep must be (B,), got {Shapes.Format(timestep.shape)}.", nameof(timestep));
        var rows = timestep.shape[0];
        if (globalCond.dim() != 2 || globalCond.shape[0] != rows || globalCond.shape[1] != Config.GlobalCondDim)
        {
            throw new ArgumentException(
                $"global_cond must be ({rows}, {Config.GlobalCondDim}), got {Shapes.Format(globalCond.shape)}.", nameof(globalCond));
        }

        var cond = cat([diffusion_step_encoder.call(timestep), globalCond], -1);
        return new FilmConditioning(ResidualBlocks().Select(block => block.Film(cond)).ToList(), rows);
    }

    /// <summary>The network on <paramref name="sample"/> given the conditioning of its rows from <see cref="Condition"/>.</summary>
    /// <param name="sample">(B, T, input_dim).</param>
    /// <param name="conditioning">B rows of conditioning.</param>
    /// <returns>(B, T, input_dim).</returns>
    public Tensor Denoise(Tensor sample, FilmConditioning conditioning)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(conditioning);
        CheckSample(sample, conditioning.Rows);
        using var scope = NewDisposeScope();
        var film = conditioning.Blocks;
        var next = 0;
        var x = sample.transpose(1, 2);
        var skips = new Stack<Tensor>();
        foreach (var level in down_modules)
        {
            x = level.Forward(x, film[next], film[next + 1], out var skip);
            next += 2;
            skips.Push(skip);
        }
        foreach (var block in mid_modules)
            x = block.Forward(x, film[next++]);
        foreach (var level in up_modules)
        {
            x = level.Forward(cat([x, skips.Pop()], 1), film[next], film[next + 1], out _);
            next += 2;
        }
        return GemmConv1d.Apply(output.Projection, output.Block.call(x), 1, 0).transpose(1, 2).MoveToOuterDisposeScope();
    }

    INoiseConditioning INoisePredictor.Condition(Tensor timestep, Tensor globalCond) => Condition(timestep, globalCond);

    /// <summary>New tensors in the current dispose scope (which frees them); disposing the result does nothing.</summary>
    INoiseConditioning INoisePredictor.Concat(IReadOnlyList<INoiseConditioning> parts) =>
        FilmConditioning.Concat(parts.Select(p => p as FilmConditioning ?? throw new ArgumentException("The conditioning was not made by this network.", nameof(parts))).ToList());

    Tensor INoisePredictor.Denoise(Tensor sample, INoiseConditioning conditioning) =>
        Denoise(sample, conditioning as FilmConditioning
            ?? throw new ArgumentException("The conditioning was not made by a TorchSharp ConditionalUnet1D.", nameof(conditioning)));

    /// <summary>
    /// Stores every convolution weight time-major, (O, k, C), which makes <see cref="Denoise"/>
    /// faster on a CPU (<see cref="GemmConv1d"/>); values and state-dict shapes are unchanged.
    /// Call once after loading weights, before inference; not on a network an optimiser holds, since
    /// the weight parameters are replaced by new ones.
    /// </summary>
    public void PrepareForInference()
    {
        foreach (var module in modules())
            if (module is Conv1d conv) GemmConv1d.StoreTimeMajor(conv);
    }

    /// <summary>Residual blocks in the order <see cref="Denoise"/> applies them.</summary>
    IEnumerable<ConditionalResidualBlock1D> ResidualBlocks() =>
        down_modules.SelectMany(level => level.Blocks).Concat(mid_modules).Concat(up_modules.SelectMany(level => level.Blocks));

    void CheckSample(Tensor sample, long rows)
    {
        var factor = Config.LengthMultiple;
        if (sample.dim() != 3 || sample.shape[0] != rows || sample.shape[2] != Config.InputDim || sample.shape[1] % factor != 0)
        {
            throw new ArgumentException(
                $"sample must be ({rows}, T, {Config.InputDim}) with T a multiple of {factor}, got {Shapes.Format(sample.shape)}.", nameof(sample));
        }
    }
}
