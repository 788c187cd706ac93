using System.Globalization;
using DiffPolicy.Data;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Export;

/// <summary>
/// An <see cref="OnnxGraph"/> built from a module's state dict: weights become initializers under their state-dict keys
/// (shape-checked), small int64 constants are shared by name, and the layers both exports write (convolution, GroupNorm)
/// are written once here.
/// </summary>
internal abstract class StateDictGraph(IReadOnlyDictionary<string, Tensor> stateDict)
{
    protected readonly OnnxGraph graph = new();
    readonly Dictionary<string, string> constants = [];

    protected bool Has(string key) => stateDict.ContainsKey(key);

    /// <summary>The state-dict entry <paramref name="key"/> as an initializer of the same name and shape.</summary>
    protected string Weight(string key, params long[] shape)
    {
        if (!stateDict.TryGetValue(key, out var tensor)) throw new InvalidDataException($"The network has no '{key}'.");
        if (!tensor.shape.SequenceEqual(shape))
            throw new InvalidDataException($"'{key}' is {Shapes.Format(tensor.shape)}, expected {Shapes.Format(shape)}.");
        using var values = tensor.detach().to(float32).cpu().contiguous();
        return graph.Initializer(key, shape, values.data<float>().ToArray());
    }

    /// <summary>Conv1d or Conv2d (one entry of <paramref name="kernel"/> per spatial axis; the same stride and padding on each).</summary>
    /// <param name="bias">Whether the state dict has <c>prefix.bias</c>.</param>
    protected string Conv(string prefix, string x, int inputs, int outputs, int[] kernel, int stride, int padding, bool bias = true)
    {
        var weight = Weight(prefix + ".weight", [outputs, inputs, .. kernel.Select(k => (long)k)]);
        string[] operands = bias ? [x, weight, Weight(prefix + ".bias", outputs)] : [x, weight];
        return graph.Node("Conv", operands,
            ("kernel_shape", kernel.Select(k => (long)k).ToArray()),
            ("strides", Enumerable.Repeat((long)stride, kernel.Length).ToArray()),
            ("pads", Enumerable.Repeat((long)padding, 2 * kernel.Length).ToArray()));
    }

    /// <summary>
    /// torch's GroupNorm (ε 1e-5) of (N, C, …): opset 17 has no GroupNormalization, so Reshape (N, groups, −1) →
    /// InstanceNormalization → Reshape back → · γ + β (γ, β at <c>prefix.weight</c>, <c>prefix.bias</c>), as PyTorch's own
    /// exporter writes it.
    /// </summary>
    protected string GroupNorm(string prefix, string x, int channels, int groups, int spatialAxes)
    {
        var grouped = graph.Node("Reshape", [x, Constant($"shape_0_{groups}_-1", 0, groups, -1)]);
        var normalised = graph.Node("InstanceNormalization",
            [grouped, Filled($"group_scale_{groups}", groups, 1f), Filled($"group_bias_{groups}", groups, 0f)], ("epsilon", 1e-5f));
        var restored = graph.Node("Reshape", [normalised, graph.Node("Shape", [x])]);
        var axes = Axes([.. Enumerable.Range(1, spatialAxes).Select(a => (long)a)]);
        var gamma = graph.Node("Unsqueeze", [Weight(prefix + ".weight", channels), axes]);
        var beta = graph.Node("Unsqueeze", [Weight(prefix + ".bias", channels), axes]);
        return graph.Node("Add", [graph.Node("Mul", [restored, gamma]), beta]);
    }

    protected string Axes(params long[] axes) => Constant("axes_" + string.Join('_', axes), axes);

    /// <summary>A 1-D int64 initializer, one per name.</summary>
    protected string Constant(string name, params long[] values)
    {
        if (!constants.TryGetValue(name, out var existing)) constants[name] = existing = graph.Int64s(name, values);
        return existing;
    }

    protected string Scalar(long value)
    {
        var name = "index_" + value.ToString(CultureInfo.InvariantCulture);
        if (!constants.TryGetValue(name, out var existing)) constants[name] = existing = graph.Int64Scalar(name, value);
        return existing;
    }

    /// <summary>A float initializer of <paramref name="count"/> copies of <paramref name="value"/>, one per name.</summary>
    protected string Filled(string name, int count, float value) => Floats(name, [count], [.. Enumerable.Repeat(value, count)]);

    /// <summary>A float initializer, one per name.</summary>
    protected string Floats(string name, long[] shape, float[] values)
    {
        if (!constants.TryGetValue(name, out var existing)) constants[name] = existing = graph.Initializer(name, shape, values);
        return existing;
    }
}
