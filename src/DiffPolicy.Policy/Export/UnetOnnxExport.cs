using DiffPolicy.Data;
using DiffPolicy.Policy.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Export;

/// <summary>
/// Writes a <see cref="ConditionalUnet1D"/> as an ONNX model (opset 17) with the original forward's inputs:
/// <c>sample</c> (batch, horizon, input_dim) float32, <c>timestep</c> (batch) int64 and <c>global_cond</c>
/// (batch, global_cond_dim) float32; output <c>output</c> (batch, horizon, input_dim). batch and horizon are
/// dynamic (horizon a multiple of 2^(levels−1)). Weights are initializers under the original state-dict
/// keys and shapes. Opset 17 has neither Mish nor GroupNormalization: Mish is x·tanh(softplus(x)), and
/// GroupNorm is InstanceNormalization over (batch, groups, channels/groups·horizon) then γ, β, as
/// PyTorch's own exporter writes them. docs/onnx.md.
/// </summary>
public static class UnetOnnxExport
{
    public const int Opset = OnnxGraph.Opset;

    public const string SampleInput = "sample", TimestepInput = "timestep", GlobalCondInput = "global_cond", Output = "output";

    /// <summary>The model's bytes for <paramref name="network"/>.</summary>
    public static byte[] Serialize(ConditionalUnet1D network, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        using var scope = NewDisposeScope();
        var stateDict = network.state_dict();
        var builder = new Builder(network.Config, stateDict);
        return builder.Build(metadata ?? new Dictionary<string, string>());
    }

    /// <summary>Writes the model to <paramref name="path"/> atomically (a temporary file, then a rename).</summary>
    public static void Write(ConditionalUnet1D network, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        AtomicFile.WriteAllBytes(path, Serialize(network, metadata));
    }

    sealed class Builder(ConditionalUnet1DConfig config, IReadOnlyDictionary<string, Tensor> stateDict) : StateDictGraph(stateDict)
    {
        public byte[] Build(IReadOnlyDictionary<string, string> metadata)
        {
            int a = config.InputDim, levels = config.DownDims.Count, d = config.DiffusionStepEmbedDim, half = d / 2;
            graph.Input(SampleInput, false, "batch", "horizon", (long)a);
            graph.Input(TimestepInput, true, "batch");
            graph.Input(GlobalCondInput, false, "batch", (long)config.GlobalCondDim);

            // SinusoidalPosEmb, frequencies in float32 as the original computes them.
            var rate = (float)(-Math.Log(10000) / (half - 1));
            var frequencies = Enumerable.Range(0, half).Select(i => MathF.Exp(i * rate)).ToArray();
            var steps = graph.Node("Unsqueeze", [graph.Node("Cast", [TimestepInput], ("to", 1L)), Axes(1)]);
            var angles = graph.Node("Mul", [steps, graph.Initializer("step_frequencies", [1, half], frequencies)]);
            var embedding = graph.Node("Concat", [graph.Node("Sin", [angles]), graph.Node("Cos", [angles])], ("axis", 1L));
            var hidden = Mish(Linear("diffusion_step_encoder.1", embedding, d, 4 * d));
            var step = Linear("diffusion_step_encoder.3", hidden, 4 * d, d);
            // Every block's cond_encoder starts with Mish of the same vector: computed once.
            var cond = Mish(graph.Node("Concat", [step, GlobalCondInput], ("axis", 1L)));

            int[] dims = [a, .. config.DownDims];
            var x = graph.Node("Transpose", [SampleInput], ("perm", new long[] { 0, 2, 1 }));
            var skips = new Stack<string>();
            for (var i = 0; i < levels; i++)
            {
                x = Residual($"down_modules.{i}.0", x, cond, dims[i], dims[i + 1]);
                x = Residual($"down_modules.{i}.1", x, cond, dims[i + 1], dims[i + 1]);
                skips.Push(x);
                if (i < levels - 1) x = Conv($"down_modules.{i}.2.conv", x, dims[i + 1], dims[i + 1], 3, stride: 2, padding: 1);
            }
            x = Residual("mid_modules.0", x, cond, dims[levels], dims[levels]);
            x = Residual("mid_modules.1", x, cond, dims[levels], dims[levels]);
            for (var j = 0; j < levels - 1; j++)
            {
                int i = levels - 1 - j, dimIn = dims[i], dimOut = dims[i + 1];
                x = graph.Node("Concat", [x, skips.Pop()], ("axis", 1L));
                x = Residual($"up_modules.{j}.0", x, cond, 2 * dimOut, dimIn);
                x = Residual($"up_modules.{j}.1", x, cond, dimIn, dimIn);
                var prefix = $"up_modules.{j}.2.conv";
                x = graph.Node("ConvTranspose", [x, Weight(prefix + ".weight", dimIn, dimIn, 4), Weight(prefix + ".bias", dimIn)],
                    ("kernel_shape", new long[] { 4 }), ("strides", new long[] { 2 }), ("pads", new long[] { 1, 1 }));
            }
            x = ConvBlock("final_conv.0", x, dims[1], dims[1]);
            x = Conv("final_conv.1", x, dims[1], a, 1);
            graph.Output(graph.Node("Transpose", [x], ("perm", new long[] { 0, 2, 1 })), Output, "batch", "horizon", (long)a);

            var description = new Dictionary<string, string>(metadata)
            {
                ["network"] = config.ToJson(),
                ["inputs"] = "sample (batch, horizon, input_dim) float32; timestep (batch) int64; global_cond (batch, global_cond_dim) float32",
                ["outputs"] = "output (batch, horizon, input_dim) float32",
            };
            return graph.Serialize("ConditionalUnet1D",
                "DiffusionPolicy ConditionalUnet1D (DP-C) noise-prediction network, exported by diffpolicy; see docs/onnx.md.", description);
        }

        string Residual(string prefix, string x, string cond, int inputs, int outputs)
        {
            var width = config.CondPredictScale ? 2 * outputs : outputs;
            var embed = Linear(prefix + ".cond_encoder.1", cond, config.CondDim, width);
            var h = ConvBlock(prefix + ".blocks.0", x, inputs, outputs);
            if (config.CondPredictScale)
            {
                var film = graph.Node("Reshape", [embed, Constant($"shape_0_2_{outputs}_1", 0, 2, outputs, 1)]);   // (B, 2, O, 1)
                var scale = graph.Node("Gather", [film, Scalar(0)], ("axis", 1L));
                var bias = graph.Node("Gather", [film, Scalar(1)], ("axis", 1L));
                h = graph.Node("Add", [graph.Node("Mul", [scale, h]), bias]);
            }
            else
            {
                h = graph.Node("Add", [h, graph.Node("Unsqueeze", [embed, Axes(2)])]);
            }
            h = ConvBlock(prefix + ".blocks.1", h, outputs, outputs);
            var residual = inputs != outputs ? Conv(prefix + ".residual_conv", x, inputs, outputs, 1) : x;
            return graph.Node("Add", [h, residual]);
        }

        /// <summary>Conv1d (same length) → GroupNorm → Mish.</summary>
        string ConvBlock(string prefix, string x, int inputs, int outputs)
        {
            var h = Conv(prefix + ".block.0", x, inputs, outputs, config.KernelSize, 1, config.KernelSize / 2);
            return Mish(GroupNorm(prefix + ".block.1", h, outputs, config.NGroups, spatialAxes: 1));
        }

        string Conv(string prefix, string x, int inputs, int outputs, int kernel, int stride = 1, int padding = 0) =>
            Conv(prefix, x, inputs, outputs, [kernel], stride, padding);

        string Linear(string prefix, string x, int inputs, int outputs) =>
            graph.Node("Gemm", [x, Weight(prefix + ".weight", outputs, inputs), Weight(prefix + ".bias", outputs)], ("transB", 1L));

        string Mish(string x) => graph.Node("Mul", [x, graph.Node("Tanh", [graph.Node("Softplus", [x])])]);
    }
}
