using System.Diagnostics;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// Throughput of the simulator on one thread: per wall-clock second, and per second of processor time the
/// process used (the fairer number on a shared, oversubscribed machine).
/// </summary>
public sealed record SimBenchmarkResult(long Substeps, double Seconds, double CpuSeconds, double ContactFraction)
{
    public double SubstepsPerSecond => Substeps / Seconds;
    public double SubstepsPerCpuSecond => Substeps / CpuSeconds;
}

/// <summary>
/// A fixed scenario set for timing the physics: seeded resets 0…19, each followed by 100 control steps whose
/// targets circle the block's centre of gravity at a radius that makes the agent push it, so most substeps
/// solve contacts.
/// </summary>
public static class SimBenchmark
{
    public const int Scenarios = 20;
    public const int StepsPerScenario = 100;

    public static SimBenchmarkResult Run(int rounds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        long substeps = 0;
        long withContacts = 0;
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        for (var round = 0; round < rounds; round++)
        {
            for (var seed = 0; seed < Scenarios; seed++)
            {
                var env = new PushTEnv(seed);
                var world = env.World;
                for (var step = 0; step < StepsPerScenario; step++)
                {
                    var phase = 0.15 * step + seed;
                    var target = world.Block.Position + new Vec2(Math.Cos(phase), Math.Sin(phase)) * 40.0;
                    for (var i = 0; i < PushTEnv.SubstepsPerStep; i++)
                    {
                        PushTEnv.DriveAgent(world, target);
                        world.Step(PushTEnv.SubstepDt);
                        withContacts += world.ActiveContacts > 0 ? 1 : 0;
                    }
                    substeps += PushTEnv.SubstepsPerStep;
                }
            }
        }
        watch.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        return new SimBenchmarkResult(substeps, watch.Elapsed.TotalSeconds, cpu, withContacts / (double)substeps);
    }
}
