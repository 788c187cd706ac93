using DiffPolicy.Control;
using DiffPolicy.Protocol;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Soak;

/// <summary>
/// Reads the live native tensor count on the inference thread when no chunk is being computed: sampled at any other
/// moment it also counts the tensors of the chunks being computed (several hundred each) and those the GC has not yet
/// finalised, which hides a leak in noise.
/// </summary>
internal sealed class TensorCountingPolicy(IChunkPolicy inner) : IChunkPolicy
{
    long liveTensors = Tensor.TotalCount;

    public PolicyMetadata Metadata => inner.Metadata;

    /// <summary>Live tensors after the latest chunk with none running (at construction before the first).</summary>
    public long LiveTensors => Interlocked.Read(ref liveTensors);

    public InferenceResult Infer(ObservationWindow window, CancellationToken cancellationToken)
    {
        var result = inner.Infer(window, cancellationToken);
        Interlocked.Exchange(ref liveTensors, Tensor.TotalCount);
        return result;
    }

    public void Reset(string robot) => inner.Reset(robot);

    public void Serve(IInferenceFeed feed, CancellationToken stop)
    {
        inner.Serve(feed, stop);
        Interlocked.Exchange(ref liveTensors, Tensor.TotalCount);
    }
}
