using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Expert;

/// <summary>
/// Chooses the next push by trying them on the simulator: for every site along the T's outline and three
/// directions into it, the agent is placed next to the site and pushes at a steady speed; the push is cut at
/// several lengths (followed by a pause for the agent to stop) and scored by the goal error it leaves plus a
/// price per control step spent reaching the site and pushing.
/// </summary>
internal sealed class PushPlanner
{
    const double Gap = 2.0;
    const double StagingOffset = 14.0;
    const double RingRadius = PushTWorld.AgentRadius + 12.0;
    const double Clearance = PushTWorld.AgentRadius + 4.0;
    const double ApproachSpeed = 15.0;
    const int SettleSteps = 3;
    const int MaxPushSteps = 15;
    static readonly int[] CutAfter = [1, 2, 3, 4, 6, 8, 11, 15];
    static readonly double[] DirectionOffsets = [-0.45, 0.0, 0.45];
    static readonly ContactSite[] Sites = ContactSite.AlongOutline(12.0);

    /// <summary>The best push from here, or null when no push is predicted to reduce the goal error.</summary>
    public static Push? Plan(PushTEnv env)
    {
        var pose = env.BlockPose;
        var error = GoalError.Of(pose);
        var tee = new TeeObstacle(pose);
        var ring = tee.Ring(RingRadius).Select(PushTEnv.ClampToWorld).ToArray();
        var agent = env.State.Agent;
        var speed = Math.Clamp(0.3 * error, 2.0, 14.0);
        var pricePerStep = 0.004 * error;

        Push? best = null;
        var bestScore = double.PositiveInfinity;
        Span<Vec2> targets = stackalloc Vec2[MaxPushSteps];
        foreach (var site in Sites)
        {
            var point = pose.Apply(site.Point);
            var normal = pose.ApplyToVector(site.Normal);
            var start = point + normal * (PushTWorld.AgentRadius + Gap);
            var staging = start + normal * StagingOffset;
            if (!InWorld(staging) || !InWorld(start) || tee.Distance(start) < PushTWorld.AgentRadius + Gap - 0.5 || tee.Distance(staging) < Clearance)
            {
                continue;
            }
            var approach = ApproachPath.Plan(agent, staging, tee, ring, Clearance);
            if (approach is null)
            {
                continue;
            }
            var approachSteps = Math.Ceiling((approach.Length + StagingOffset) / ApproachSpeed) + 1;
            foreach (var offset in DirectionOffsets)
            {
                var direction = (-normal).Rotate(new Vec2(Math.Cos(offset), Math.Sin(offset)));
                var trial = env.Fork(start);
                var cut = 0;
                for (var k = 1; k <= MaxPushSteps; k++)
                {
                    targets[k - 1] = PushTEnv.ClampToWorld(start + direction * (speed * k));
                    trial.Step(targets[k - 1]);
                    if (k != CutAfter[cut])
                    {
                        continue;
                    }
                    cut++;
                    var settled = trial.Clone();
                    for (var s = 0; s < SettleSteps; s++)
                    {
                        settled.Step(targets[k - 1]);
                    }
                    var predicted = GoalError.Of(settled.BlockPose);
                    var score = predicted + pricePerStep * (approachSteps + k + SettleSteps);
                    if (predicted < 0.98 * error && score < bestScore)
                    {
                        bestScore = score;
                        var plan = new Vec2[k + SettleSteps];
                        targets[..k].CopyTo(plan);
                        plan.AsSpan(k).Fill(targets[k - 1]);
                        best = new Push(new ApproachPath([.. approach.Points, start], approach.Length + StagingOffset), start, plan);
                    }
                }
            }
        }
        return best;
    }

    static bool InWorld(Vec2 p) => p.X is >= 0 and <= PushTEnv.WorldSize && p.Y is >= 0 and <= PushTEnv.WorldSize;
}
