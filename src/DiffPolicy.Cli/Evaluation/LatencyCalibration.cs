using System.Diagnostics;
using DiffPolicy.Control;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Robot;

namespace DiffPolicy.Cli.Evaluation;

/// <summary>
/// <c>--latency-steps auto</c>: d = ceil(p95 of measured inference / dt), measured on this machine before the episodes
/// with chunks for the first test seed's start (a robot name of its own, so the evaluation's noise is untouched). Under
/// <see cref="ChunkSeam.Inpaint"/> each chunk after the first carries the previous one's rest as a prior with half of
/// it frozen, so the measurement includes what inpainting costs.
/// </summary>
public static class LatencyCalibration
{
    public static (int Steps, double P95Ms) Measure(IChunkPolicy policy, ChunkSeam seam, long seed, int chunks = 12)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var metadata = policy.Metadata;
        const string robot = "latency-calibration";
        var observer = PushTRobot.ObserverFor(metadata, out var why) ?? throw new ArgumentException($"the policy {why}", nameof(policy));
        var first = observer.Observe(new PushTEnv(seed));
        var window = PushTObservation.Stack(Enumerable.Repeat(first, metadata.NObsSteps).ToList());
        var times = new List<double>();
        float[]? previous = null;
        policy.Reset(robot);
        try
        {
            for (var i = 0; i < chunks; i++)
            {
                Protocol.PlanPrior? prior = null;
                if (seam == ChunkSeam.Inpaint && previous is not null)
                {
                    var rest = previous[(metadata.NActionSteps * metadata.ActionDim)..];
                    var rows = rest.Length / metadata.ActionDim;
                    if (rows > 0) prior = new Protocol.PlanPrior(rest, rows / 2);
                }
                var started = Stopwatch.GetTimestamp();
                var chunk = policy.Infer(new ObservationWindow(robot, seed, 0, metadata.NObsSteps, window.Values) { Frames = window.Frames, Prior = prior }, CancellationToken.None);
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                previous = chunk.Actions;
            }
        }
        finally
        {
            policy.Reset(robot);
        }
        var p95 = Quantiles.R7(times.Skip(2), 0.95);   // the first two pay for first allocations
        return ((int)Math.Ceiling(p95 / 1000 * metadata.ControlHz), p95);
    }
}
