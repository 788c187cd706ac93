using System.Text.Json.Nodes;
using DiffPolicy.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Network;

/// <summary>
/// Inputs and output of a reference network evaluation, in the format the fixture generator writes
/// from the original PyTorch code: <c>sample</c> (B, T, A), <c>timestep</c> (B,),
/// <c>global_cond</c> (B, G), <c>output</c> (B, T, A); optionally <c>keys</c> (name → shape).
/// </summary>
public sealed class ReferenceVectors
{
    public required (float[] Values, long[] Shape) Sample { get; init; }
    public required long[] Timestep { get; init; }
    public required (float[] Values, long[] Shape) GlobalCond { get; init; }
    public required (float[] Values, long[] Shape) Output { get; init; }

    /// <summary>Every state-dict key of the original network with its shape (empty when absent).</summary>
    public required IReadOnlyDictionary<string, long[]> Keys { get; init; }

    public static ReferenceVectors Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Vectors file '{path}' does not exist.", path);
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            JsonNode Field(string name) => root[name] ?? throw new InvalidDataException($"'{path}' has no '{name}'.");
            var keys = root["keys"]?.AsObject().ToDictionary(
                kv => kv.Key, kv => kv.Value!.AsArray().Select(n => n!.GetValue<long>()).ToArray()) ?? [];
            return new ReferenceVectors
            {
                Sample = Flatten(Field("sample")),
                Timestep = Field("timestep").AsArray().Select(n => n!.GetValue<long>()).ToArray(),
                GlobalCond = Flatten(Field("global_cond")),
                Output = Flatten(Field("output")),
                Keys = keys,
            };
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"'{path}' is not a vectors file: {e.Message}", e);
        }
    }

    /// <summary>Runs the inputs through <paramref name="network"/> and returns max |output − reference|.</summary>
    public double MaxAbsError(ConditionalUnet1D network)
    {
        ArgumentNullException.ThrowIfNull(network);
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var predicted = network.call(
            tensor(Sample.Values).reshape(Sample.Shape),
            tensor(Timestep),
            tensor(GlobalCond.Values).reshape(GlobalCond.Shape));
        if (!predicted.shape.SequenceEqual(Output.Shape))
        {
            throw new InvalidDataException(
                $"The network output {Shapes.Format(predicted.shape)} differs in shape from the reference {Shapes.Format(Output.Shape)}.");
        }

        return (predicted - tensor(Output.Values).reshape(Output.Shape)).abs().max().item<float>();
    }

    static (float[] Values, long[] Shape) Flatten(JsonNode node)
    {
        var shape = new List<long>();
        for (var n = node; n is JsonArray array; n = array.Count > 0 ? array[0] : null)
            shape.Add(array.Count);
        var values = new List<float>();
        void Walk(JsonNode? n)
        {
            if (n is JsonArray array)
                foreach (var item in array) Walk(item);
            else
                values.Add(n!.GetValue<float>());
        }
        Walk(node);
        if (values.Count != shape.Aggregate(1L, (a, b) => a * b))
            throw new InvalidDataException("a nested array is ragged.");
        return (values.ToArray(), shape.ToArray());
    }
}
