using System.Text.Json;
using System.Text.Json.Serialization;
using DiffPolicy.Data;

namespace DiffPolicy.Cli.Soak;

/// <summary>The process at one moment of a soak.</summary>
/// <param name="Tensors">Live native tensors (torch.Tensor.TotalCount) after the latest chunk, on the inference thread.</param>
public sealed record ProcessSample(double Seconds, double RssMb, long Tensors, int Gen0, int Gen1, int Gen2, long Chunks, long DeadlineMisses);

/// <summary>One chunk as the robot saw it, for the plot.</summary>
public sealed record ChunkSample(double Seconds, double LatencyMs, double InferMs, double? SlackMs);

/// <summary>Memory at the start, after warm-up and at the end; drift = end − after warm-up.</summary>
public sealed record MemorySummary(
    double RssStartMb, double RssAfterWarmupMb, double RssEndMb, double RssDriftMb,
    long TensorsStart, long TensorsAfterWarmup, long TensorsEnd, long TensorDrift, int Gen0Collections, int Gen1Collections, int Gen2Collections);

/// <summary>What <c>diffpolicy soak</c> prints, writes as JSON and plots.</summary>
/// <param name="LateChunks">Chunks that arrived after the robot had run out of planned actions (negative slack; not in <paramref name="SlackMs"/>).</param>
/// <param name="SteadyChunkLatencyMs">
/// Latency of the chunks that replace a running plan (all but each episode's first): the ones a deadline applies to.
/// An episode's first chunk may wait behind the previous episode's last request.
/// </param>
/// <param name="SlackMs">Planned actions left, in ms, when each chunk arrived in time (an episode's first chunk excluded).</param>
/// <param name="Overloaded">Requests the server refused with <c>overloaded</c> (the robot asked again at its next tick).</param>
/// <param name="LongestPlanlessMs">The longest time any robot held position for want of a plan (consecutive misses × dt).</param>
/// <param name="Robots">The same counts per robot (one entry per robot; the totals above cover them all).</param>
public sealed record SoakReport(
    string Sampler, string Endpoint, double DurationSeconds, double WarmupSeconds, int Episodes, long Ticks, long Chunks,
    long DeadlineMisses, long StartupTicks, long LateChunks, long DroppedActions, long Rehellos,
    Percentiles ChunkLatencyMs, Percentiles SteadyChunkLatencyMs, Percentiles ServerInferMs, Percentiles SlackMs, MemorySummary Memory, string Machine,
    IReadOnlyList<ProcessSample> Samples, IReadOnlyList<ChunkSample> ChunkSamples,
    long Overloaded, double LongestPlanlessMs, IReadOnlyList<RobotSoakReport> Robots)
{
    public string ToJson() => JsonSerializer.Serialize(this, SnakeCaseJson.Options);
}

/// <summary>One robot of a soak.</summary>
/// <param name="Chunks">Chunks received; <paramref name="ChunksPerSecond"/> is their rate over the soak.</param>
public sealed record RobotSoakReport(
    string Robot, int Episodes, long Ticks, long Chunks, double ChunksPerSecond, long DeadlineMisses, long LateChunks, long Overloaded,
    double LongestPlanlessMs, Percentiles ChunkLatencyMs, Percentiles SteadyChunkLatencyMs);
