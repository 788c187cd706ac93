using DiffPolicy.Protocol;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Robot;

/// <summary>
/// Lockstep over the wire: every step's observation goes to the server, with <c>infer</c> only when the controller's
/// actions are used up, and the simulation waits for that chunk. After a server restart the session is reopened and
/// the last n_obs_steps observations are sent again, so the policy sees the same window. With
/// <see cref="PushTRobotOptions.DeadlineMs"/> each request asks for an anytime answer; the robot asks only when its plan
/// is used up, so by protocol §4a's rule it executes the chunk whether or not every step converged; a request the server
/// refuses as <c>overloaded</c> (not one iteration fits before the deadline) is <see cref="ChunkedController.Refused"/>.
/// </summary>
internal sealed class LockstepSource(PushTRobot robot, long episode, Action<ChunkTiming>? chunkArrived) : IChunkSource
{
    readonly List<(long Step, PushTObservation Observation)> recent = [];

    public List<ChunkTiming> Timings { get; } = [];

    public IReadOnlyList<Vec2>? Observe(long step, PushTEnv env, bool request, ActionPrior? prior = null)
    {
        var observation = robot.Observer.Observe(env);
        recent.Add((step, observation));
        if (recent.Count > robot.Policy.NObsSteps) recent.RemoveAt(0);
        var asked = robot.SendObservation(episode, step, observation, request, request ? prior : null, robot.Options.DeadlineMs);
        if (!request) return null;
        var sentAt = robot.Now;
        while (true)
        {
            switch (robot.Receive(robot.Options.ServerTimeout))
            {
                case ActionChunk chunk when chunk.ObsSeq == asked:
                    var timing = new ChunkTiming((robot.Now - sentAt) * 1000, chunk.Timing.InferMs, chunk.Timing.Iterations, chunk.Timing.Evaluations,
                        null, chunk.Certificate?.ConvergedSteps, chunk.Certificate?.Steps);
                    Timings.Add(timing);
                    chunkArrived?.Invoke(timing);
                    return Actions(chunk);
                case ProtocolError { Code: ErrorCodes.Overloaded, Seq: { } refused } when refused == asked:
                    return ChunkedController.Refused;   // §4a: no chunk by the deadline; the controller holds and asks again next step
                case { } other when robot.HandleOther(other):
                    for (var i = 0; i < recent.Count; i++)
                    {
                        var last = i == recent.Count - 1;
                        asked = robot.SendObservation(episode, recent[i].Step, recent[i].Observation, infer: last, last ? prior : null, robot.Options.DeadlineMs);
                    }
                    break;
            }
        }
    }

    internal static Vec2[] Actions(ActionChunk chunk)
    {
        var actions = new Vec2[chunk.Count];
        for (var i = 0; i < chunk.Count; i++)
        {
            actions[i] = new Vec2(chunk.Values[2 * i], chunk.Values[2 * i + 1]);
        }
        return actions;
    }
}
