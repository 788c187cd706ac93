using DiffPolicy.Sim.PushT.Replay;
using Xunit.Abstractions;

namespace DiffPolicy.Sim.PushT.Tests;

/// <summary>Replays the Chipmunk 7.0.3 oracle trajectories and checks the issue's percentile criteria.</summary>
public class ReplayTests(ITestOutputHelper output)
{
    [Fact]
    public void Reference_trajectories_are_reproduced_within_the_percentile_criteria()
    {
        var scenarios = ReplayFile.Load(Fixtures.PushT("reference_trajectories.json"));
        Assert.Equal(20, scenarios.Count);
        var position = new List<double[]>();
        var angle = new List<double[]>();
        var coverage = new List<double>();
        for (var i = 0; i < scenarios.Count; i++)
        {
            var result = ReplayResult.Run(ReplayFile.Parse(scenarios[i], i));
            var states = scenarios[i]["states"]!.AsArray().Select(r => r!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).ToArray();
            var expectedCoverage = scenarios[i]["coverage"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            Assert.Equal(states.Length, result.States.Count);
            position.Add(states.Select((s, k) => Math.Sqrt(Sq(s[2] - result.States[k].BlockX) + Sq(s[3] - result.States[k].BlockY))).ToArray());
            angle.Add(states.Select((s, k) => Math.Abs(s[4] - result.States[k].BlockAngle)).ToArray());
            coverage.AddRange(expectedCoverage.Select((c, k) => Math.Abs(c - result.Coverage[k])));
            // The agent is driven by the PD controller alone: it must match to rounding everywhere.
            for (var k = 0; k < states.Length; k++)
            {
                Assert.Equal(states[k][0], result.States[k].AgentX, 1e-6);
                Assert.Equal(states[k][1], result.States[k].AgentY, 1e-6);
            }
        }

        var steps = position[0].Length;
        var worstP90Position = 0.0;
        var worstP90Angle = 0.0;
        for (var k = 0; k < steps; k++)
        {
            var pk = position.Select(p => p[k]).ToArray();
            var ak = angle.Select(a => a[k]).ToArray();
            worstP90Position = Math.Max(worstP90Position, SampleQuantiles.R7(pk, 90));
            worstP90Angle = Math.Max(worstP90Angle, SampleQuantiles.R7(ak, 90));
        }
        var all = position.SelectMany(p => p).ToArray();
        var allAngle = angle.SelectMany(a => a).ToArray();
        var last = position.Select(p => p[^1]).ToArray();
        var within5 = last.Count(e => e <= 5.0) / (double)last.Length;
        var coverageP99 = SampleQuantiles.R7(coverage, 99);
        output.WriteLine($"block position error px: p50 {SampleQuantiles.R7(all, 50):G3} p90 {SampleQuantiles.R7(all, 90):G3} max {all.Max():G3}; worst per-step p90 {worstP90Position:G3}");
        output.WriteLine($"block angle error rad: p50 {SampleQuantiles.R7(allAngle, 50):G3} p90 {SampleQuantiles.R7(allAngle, 90):G3} max {allAngle.Max():G3}; worst per-step p90 {worstP90Angle:G3}");
        output.WriteLine($"last step within 5 px: {within5:P0}; coverage error p99 {coverageP99:G3}; last-step errors: {string.Join(" ", last.Select(e => e.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)))}");

        Assert.True(worstP90Position <= 0.5, $"per-step p90 block position error {worstP90Position} > 0.5 px");
        Assert.True(worstP90Angle <= 0.005, $"per-step p90 block angle error {worstP90Angle} > 0.005 rad");
        Assert.True(within5 >= 0.95, $"only {within5:P0} of scenarios within 5 px at the last step");
        Assert.True(coverageP99 <= 0.01, $"coverage error p99 {coverageP99} > 0.01");
    }

    static double Sq(double x) => x * x;
}
