using System.Diagnostics;
using System.Globalization;
using System.Text;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Tests;

/// <summary>One push scenario: a reset state and absolute agent targets, one per control step.</summary>
internal sealed record PushScenario(PushTState Initial, Vec2[] Actions);

/// <summary>What Chipmunk did with a scenario: a state per row (after the reset, then after each action), and per substep the pairs its solver iterated over, in order.</summary>
internal sealed record OracleRun(IReadOnlyList<PushTState> States, IReadOnlyList<string[]> SolverOrders);

/// <summary>
/// Chipmunk 7 itself as the reference: <c>tests/oracles/pusht_chipmunk.c</c>, compiled with gcc against Debian's
/// libchipmunk-dev (installed by tests/run.sh) once per test run.
/// </summary>
internal static class ChipmunkOracle
{
    static readonly Lazy<string> Executable = new(Compile);

    static string Compile()
    {
        var source = Path.Combine(RepoPaths.Root, "tests", "oracles", "pusht_chipmunk.c");
        var dir = Directory.CreateTempSubdirectory("pusht_chipmunk_").FullName;
        var exe = Path.Combine(dir, "pusht_chipmunk");
        var (code, _, error) = RunProcess("gcc", ["-O2", "-o", exe, source, "-lchipmunk", "-lm"], "");
        Assert.True(code == 0, $"gcc could not build {source} (tests/run.sh installs gcc, libc6-dev and libchipmunk-dev): {error}");
        return exe;
    }

    /// <summary>Runs the scenarios on Chipmunk; <paramref name="solverOrders"/> also records each substep's solver order.</summary>
    public static IReadOnlyList<OracleRun> Run(IReadOnlyList<PushScenario> scenarios, bool solverOrders = false)
    {
        var input = new StringBuilder();
        foreach (var s in scenarios)
        {
            var st = s.Initial;
            input.Append(CultureInfo.InvariantCulture, $"{st.AgentX:R} {st.AgentY:R} {st.BlockX:R} {st.BlockY:R} {st.BlockAngle:R} {s.Actions.Length}\n");
            foreach (var a in s.Actions)
            {
                input.Append(CultureInfo.InvariantCulture, $"{a.X:R} {a.Y:R}\n");
            }
        }
        var (code, output, error) = RunProcess(Executable.Value, solverOrders ? ["--contacts"] : [], input.ToString());
        Assert.True(code == 0, $"pusht_chipmunk failed ({code}): {error}");

        // Debian's build prints a banner of its own on stdout; only "s" (state) and "c" (solver order) lines count.
        var runs = new List<OracleRun>();
        var states = new List<PushTState>();
        var orders = new List<string[]>();
        var scenario = 0;
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith("s ", StringComparison.Ordinal))
            {
                var v = line[2..].Split(' ').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
                states.Add(new PushTState(v[0], v[1], v[2], v[3], v[4]));
                if (states.Count == scenarios[scenario].Actions.Length + 1)
                {
                    runs.Add(new OracleRun(states, orders));
                    states = [];
                    orders = [];
                    scenario++;
                }
            }
            else if (line.StartsWith("c ", StringComparison.Ordinal))
            {
                orders.Add(line.Split(' ')[3..]);
            }
        }
        Assert.Equal(scenarios.Count, runs.Count);
        return runs;
    }

    static (int Code, string Output, string Error) RunProcess(string file, string[] args, string input)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill();
            Assert.Fail($"{file} did not finish in 5 minutes");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}

/// <summary>
/// Seeded push scenarios (System.Random with a seed, whose sequence .NET keeps fixed) for comparing with Chipmunk.
/// </summary>
internal static class PushScenarios
{
    /// <summary>
    /// Pushes against the walls and into the corners: scenario i aims at the left, top, right or bottom wall
    /// (i mod 8 = 0–3) or at one of the four corners (4–7). The block starts 70–120 px from its target at a
    /// uniform angle, the agent 75–115 px further out; for 40 steps the agent advances 6–14 px a step towards
    /// the target and beyond it, so the block is squeezed against the wall, and from step 16 also slides
    /// sideways by up to 4 px a step; 3 px of noise on every target.
    /// </summary>
    public static IReadOnlyList<PushScenario> Walls(int seed, int count)
    {
        var r = new Random(seed);
        var list = new List<PushScenario>(count);
        for (var i = 0; i < count; i++)
        {
            Vec2 target, inward;
            var u = 80 + 350 * r.NextDouble();
            switch (i % 8)
            {
                case 0: target = new(5, u); inward = new(1, 0); break;
                case 1: target = new(u, 5); inward = new(0, 1); break;
                case 2: target = new(506, u); inward = new(-1, 0); break;
                case 3: target = new(u, 506); inward = new(0, -1); break;
                case 4: target = new(5, 5); inward = new Vec2(1, 1).Normalized; break;
                case 5: target = new(506, 5); inward = new Vec2(-1, 1).Normalized; break;
                case 6: target = new(506, 506); inward = new Vec2(-1, -1).Normalized; break;
                default: target = new(5, 506); inward = new Vec2(1, -1).Normalized; break;
            }
            var angle = 2 * Math.PI * r.NextDouble();
            var cog = target + inward * (70 + 50 * r.NextDouble());
            var origin = cog - TeeShape.CenterOfGravity.Rotate(new Vec2(Math.Cos(angle), Math.Sin(angle)));
            var agent = Clamp(cog + inward * (75 + 40 * r.NextDouble()) + new Vec2(Normal(r), Normal(r)) * 15);
            agent = new Vec2(Math.Clamp(agent.X, 20, 490), Math.Clamp(agent.Y, 20, 490));
            var direction = (target - agent).Normalized;
            var tangent = direction.Perp;
            var speed = 6 + 8 * r.NextDouble();
            var slide = (r.NextDouble() - 0.5) * 8;
            var actions = new Vec2[40];
            for (var k = 0; k < actions.Length; k++)
            {
                var p = agent + direction * speed * (k + 1) + tangent * slide * Math.Max(0, k - 15) + new Vec2(Normal(r), Normal(r)) * 3;
                actions[k] = Clamp(p);
            }
            list.Add(new PushScenario(new PushTState(Math.Round(agent.X), Math.Round(agent.Y), origin.X, origin.Y, angle), actions));
        }
        return list;
    }

    /// <summary>
    /// Random pushes: a reset drawn like the original's (integer positions, Gaussian angle), then 80 steps
    /// that head for a point near the block and, every 10 steps, for a new point anywhere in the world (walls
    /// included), at most 20 px a step with 4 px of noise.
    /// </summary>
    public static IReadOnlyList<PushScenario> Random(int seed, int count)
    {
        var r = new Random(seed);
        var list = new List<PushScenario>(count);
        for (var i = 0; i < count; i++)
        {
            var st = new PushTState(r.Next(50, 450), r.Next(50, 450), r.Next(100, 400), r.Next(100, 400), Normal(r) * 2 * Math.PI - Math.PI);
            var actions = new Vec2[80];
            var p = st.Agent;
            var goal = st.Block + new Vec2(Normal(r), Normal(r)) * 40;
            for (var k = 0; k < actions.Length; k++)
            {
                if (k % 10 == 9)
                {
                    goal = new Vec2(512 * r.NextDouble(), 512 * r.NextDouble());
                }
                var step = goal - p;
                var length = step.Length;
                if (length > 20)
                {
                    step *= 20 / length;
                }
                p = Clamp(p + step + new Vec2(Normal(r), Normal(r)) * 4);
                actions[k] = p;
            }
            list.Add(new PushScenario(st, actions));
        }
        return list;
    }

    static double Normal(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    static Vec2 Clamp(Vec2 p) => new(Math.Clamp(p.X, 0, 512), Math.Clamp(p.Y, 0, 512));
}
