using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Expert;

/// <summary>
/// A scripted PushT expert: it plans a push on the simulator (<see cref="PushPlanner"/>), walks the agent to the
/// push's start around the T by pure pursuit, executes the push, and plans again. Its actions are absolute
/// agent targets at 10 Hz that move smoothly, like a teleoperator's cursor.
/// </summary>
public sealed class PushExpert
{
    const double Lookahead = 30.0;
    const double ArrivalTolerance = 3.0;
    const double DisturbanceTolerance = 0.5;
    const int ApproachStepLimit = 60;

    Push? push;
    int nextTarget = -1;
    int approachSteps;
    Pose plannedFrom;

    /// <summary>The next action (absolute agent target) for the environment's current state.</summary>
    public Vec2 Act(PushTEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var agent = env.State.Agent;
        if (push is not null && nextTarget < 0 && Disturbed(env.BlockPose))
        {
            push = null;
        }
        if (push is null || nextTarget >= push.Targets.Count || approachSteps > ApproachStepLimit)
        {
            push = PushPlanner.Plan(env);
            nextTarget = -1;
            approachSteps = 0;
            plannedFrom = env.BlockPose;
            if (push is null)
            {
                return agent;
            }
        }
        if (nextTarget < 0)
        {
            if ((agent - push.Start).Length > ArrivalTolerance)
            {
                approachSteps++;
                return PushTEnv.ClampToWorld(push.Approach.Pursue(agent, Lookahead));
            }
            nextTarget = 0;
        }
        return push.Targets[nextTarget++];
    }

    bool Disturbed(in Pose now)
    {
        var moved = (now.Translation - plannedFrom.Translation).Length + 60.0 * (now.Rotation - plannedFrom.Rotation).Length;
        return moved > DisturbanceTolerance;
    }
}
