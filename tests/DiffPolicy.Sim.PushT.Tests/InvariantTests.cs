using CsCheck;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;
using Xunit.Abstractions;

namespace DiffPolicy.Sim.PushT.Tests;

public class InvariantTests(ITestOutputHelper output)
{
    static readonly Gen<PushTState> AnyState = Gen.Select(
        Gen.Int[50, 449], Gen.Int[50, 449], Gen.Int[100, 399], Gen.Int[100, 399], Gen.Double[-7, 7],
        (ax, ay, bx, by, a) => new PushTState(ax, ay, bx, by, a));

    static readonly Gen<Vec2[]> AnyActions = Gen.Select(Gen.Double[0, 512], Gen.Double[0, 512], (x, y) => new Vec2(x, y)).Array[1, 30];

    [Fact]
    public void The_block_never_moves_without_a_contact_in_the_substep_before() =>
        Gen.Select(AnyState, AnyActions).Sample((state, actions) =>
        {
            var env = new PushTEnv(state);
            var world = env.World;
            var hadContact = world.ActiveContacts > 0;
            foreach (var action in actions)
            {
                for (var i = 0; i < PushTEnv.SubstepsPerStep; i++)
                {
                    PushTEnv.DriveAgent(world, action);
                    var before = world.Block;
                    world.Step(PushTEnv.SubstepDt);
                    if (!hadContact && (world.Block.Position != before.Position || world.Block.Angle != before.Angle))
                    {
                        return false;
                    }
                    hadContact = world.ActiveContacts > 0;
                }
            }
            return true;
        }, iter: 200);

    [Fact]
    public void The_agent_passes_through_walls()
    {
        // Block far away; the agent is commanded to the world's edge, beyond the wall at x = 5 (radius 2).
        var env = new PushTEnv(new PushTState(40, 256, 350, 300, 0.0));
        for (var i = 0; i < 20; i++)
        {
            env.Step(new Vec2(0, 256));
        }
        Assert.True(env.State.AgentX < 1.0, $"agent stopped at x = {env.State.AgentX}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_block_pushed_into_a_wall_stays_on_its_side(int quarterTurns)
    {
        // The agent drives the block, stem first, into the wall at x = 5 and keeps pushing towards the world's edge;
        // the scene is turned by quarter turns about the world's centre to reach each of the four walls.
        var turn = quarterTurns * Math.PI / 2;
        var rotation = new Vec2(Math.Cos(turn), Math.Sin(turn));
        var centre = new Vec2(256, 256);
        Vec2 Turn(Vec2 p) => centre + (p - centre).Rotate(rotation);
        var cog = Turn(new Vec2(200, 295));
        var agent = Turn(new Vec2(340, 300));
        // Legacy placement: the state's block position + (0, 45) is the centre of gravity.
        var env = new PushTEnv(new PushTState(agent.X, agent.Y, cog.X, cog.Y - 45, Math.PI / 2 + 0.05 + turn));
        var closest = double.PositiveInfinity;
        for (var step = 0; step < 60; step++)
        {
            env.Step(Turn(new Vec2(Math.Max(0, 340 - 8 * step), 300)));
            foreach (var local in TeeShape.Bar.Concat(TeeShape.Stem))
            {
                var p = env.BlockPose.Apply(local);
                closest = Math.Min(closest, Math.Min(Math.Min(p.X - 5, 506 - p.X), Math.Min(p.Y - 5, 506 - p.Y)));
            }
        }
        output.WriteLine($"closest block corner to a wall's centre line: {closest:F2} px");
        Assert.True(closest < 3.0, $"the block never reached the wall (closest corner {closest:F2} px from its centre line)");
        Assert.True(closest > -2.0, $"a block corner went {-closest:F2} px past the wall's centre line, through the wall");
    }
}
