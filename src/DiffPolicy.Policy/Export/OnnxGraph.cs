using System.Runtime.InteropServices;
using DiffPolicy.Data;

namespace DiffPolicy.Policy.Export;

/// <summary>
/// An ONNX graph under construction (nodes in topological order, float/int64 initializers) and its
/// serialisation as a ModelProto (onnx.proto field numbers; IR version 8 with opset 17).
/// </summary>
internal sealed class OnnxGraph
{
    public const int Opset = 17;
    const long IrVersion = 8;
    const int FloatType = 1, Int64Type = 7;

    readonly List<(string Op, string[] Inputs, string Output, (string Name, object Value)[] Attributes)> nodes = [];
    readonly List<(string Name, long[] Shape, int Type, byte[] Data)> initializers = [];
    readonly List<(string Name, int Type, object[] Shape)> inputs = [];
    readonly List<(string Name, int Type, object[] Shape)> outputs = [];
    readonly HashSet<string> names = [];
    int next;

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    /// <param name="attributes">long, float, string or long[] values.</param>
    public string Node(string op, string[] operands, params (string Name, object Value)[] attributes)
    {
        var output = $"{op.ToLowerInvariant()}_{next++}";
        nodes.Add((op, operands, output, attributes));
        return output;
    }

    public string Initializer(string name, long[] shape, float[] values)
    {
        if (values.Length != shape.Aggregate(1L, (a, b) => a * b)) throw new ArgumentException($"{name}: {values.Length} values for shape {Shapes.Format(shape)}.");
        Register(name);
        initializers.Add((name, shape, FloatType, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
        return name;
    }

    public string Int64s(string name, params long[] values)
    {
        Register(name);
        initializers.Add((name, [values.Length], Int64Type, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
        return name;
    }

    /// <summary>A scalar (rank 0) int64 initializer.</summary>
    public string Int64Scalar(string name, long value)
    {
        Register(name);
        initializers.Add((name, [], Int64Type, BitConverter.GetBytes(value)));
        return name;
    }

    /// <param name="shape">Per axis a long (fixed) or a string (a named dynamic axis).</param>
    public void Input(string name, bool int64, params object[] shape) => inputs.Add((name, int64 ? Int64Type : FloatType, shape));

    /// <summary>Names node output <paramref name="value"/> as a graph output through an Identity.</summary>
    public void Output(string value, string name, params object[] shape)
    {
        nodes.Add(("Identity", [value], name, []));
        outputs.Add((name, FloatType, shape));
    }

    void Register(string name)
    {
        if (!names.Add(name)) throw new ArgumentException($"Duplicate initializer '{name}'.");
    }

    public byte[] Serialize(string graphName, string docString, IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ProtoWriter()
            .Int(1, IrVersion)
            .String(2, "diffpolicy")
            .String(3, typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "0")
            .String(6, docString)
            .Message(7, graph =>
            {
                foreach (var (op, operands, output, attributes) in nodes)
                {
                    graph.Message(1, node =>
                    {
                        foreach (var operand in operands) node.String(1, operand);
                        node.String(2, output);
                        node.String(3, output);
                        node.String(4, op);
                        foreach (var (name, value) in attributes) node.Message(5, attribute => Attribute(attribute, name, value));
                    });
                }

                graph.String(2, graphName);
                foreach (var (name, shape, type, data) in initializers)
                {
                    graph.Message(5, tensor =>
                    {
                        foreach (var dim in shape) tensor.Int(1, dim);
                        tensor.Int(2, type);
                        tensor.String(8, name);
                        tensor.Bytes(9, data);
                    });
                }

                foreach (var value in inputs) graph.Message(11, info => ValueInfo(info, value));
                foreach (var value in outputs) graph.Message(12, info => ValueInfo(info, value));
            })
            .Message(8, opset => opset.String(1, "").Int(2, Opset));
        foreach (var (key, value) in metadata) model.Message(14, entry => entry.String(1, key).String(2, value));
        return model.ToArray();
    }

    static void ValueInfo(ProtoWriter info, (string Name, int Type, object[] Shape) value)
    {
        info.String(1, value.Name);
        info.Message(2, type => type.Message(1, tensor =>
        {
            tensor.Int(1, value.Type);
            tensor.Message(2, shape =>
            {
                foreach (var axis in value.Shape)
                {
                    shape.Message(1, dim =>
                    {
                        if (axis is string symbol) dim.String(2, symbol);
                        else dim.Int(1, Convert.ToInt64(axis, System.Globalization.CultureInfo.InvariantCulture));
                    });
                }
            });
        }));
    }

    static void Attribute(ProtoWriter attribute, string name, object value)
    {
        const int FloatAttribute = 1, IntAttribute = 2, StringAttribute = 3, IntsAttribute = 7;
        attribute.String(1, name);
        switch (value)
        {
            case float f:
                attribute.Float(2, f).Int(20, FloatAttribute);
                break;
            case long i:
                attribute.Int(3, i).Int(20, IntAttribute);
                break;
            case int i:
                attribute.Int(3, i).Int(20, IntAttribute);
                break;
            case string s:
                attribute.String(4, s).Int(20, StringAttribute);
                break;
            case long[] list:
                foreach (var i in list) attribute.Int(8, i);
                attribute.Int(20, IntsAttribute);
                break;
            default:
                throw new ArgumentException($"Attribute {name}: unsupported value {value}.");
        }
    }
}
