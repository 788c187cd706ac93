using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Tests;

public class AllocationTests
{
    [Fact]
    public void Physics_substeps_allocate_nothing()
    {
        var env = new PushTEnv(100000);
        var world = env.World;
        void Push(int substeps)
        {
            for (var i = 0; i < substeps; i++)
            {
                PushTEnv.DriveAgent(world, world.Block.Position);
                world.Step(PushTEnv.SubstepDt);
            }
        }
        Push(200); // reach contact and JIT everything first
        var before = GC.GetAllocatedBytesForCurrentThread();
        Push(2000);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(world.ActiveContacts > 0, "the scenario should be pushing the block");
        Assert.Equal(0, allocated);
    }
}
