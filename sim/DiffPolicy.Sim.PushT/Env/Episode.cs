using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Env;

/// <summary>One control step of an episode: the observation the action was chosen from, the action and its outcome.</summary>
public sealed record EpisodeStep(PushTState State, double[] Keypoints, Vec2 Action, StepResult Result);

/// <summary>A finished episode: its seed, steps, success and score (the maximum reward, as the original evaluates).</summary>
public sealed record Episode(long Seed, IReadOnlyList<EpisodeStep> Steps, bool Success, double MaxReward)
{
    /// <summary>
    /// Runs a policy from a seed's reset for at most <paramref name="maxSteps"/> control steps, stopping at
    /// success. <paramref name="observe"/> sees the environment before each action (and after the last one, with
    /// a null action), e.g. to render frames.
    /// </summary>
    public static Episode Run(long seed, Func<PushTEnv, Vec2> policy, int maxSteps, Action<PushTEnv, Vec2?>? observe = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSteps, 1);
        var env = new PushTEnv(seed);
        var steps = new List<EpisodeStep>();
        var maxReward = 0.0;
        var success = false;
        Vec2? lastAction = null;
        while (steps.Count < maxSteps && !success)
        {
            var state = env.State;
            var keypoints = env.Keypoints();
            var action = policy(env);
            observe?.Invoke(env, lastAction);
            var result = env.Step(action);
            steps.Add(new EpisodeStep(state, keypoints, action, result));
            maxReward = Math.Max(maxReward, result.Reward);
            success = result.Success;
            lastAction = action;
        }
        observe?.Invoke(env, lastAction);
        return new Episode(seed, steps, success, maxReward);
    }
}
