using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Physics;

namespace DiffPolicy.Sim.PushT.Tests;

/// <summary>
/// Simulated latency against lockstep, and the seam metrics, with a scripted chunk source: every chunk heads from the
/// agent (keypoint values 16–17) towards the block's first keypoint in 15 steps, plus a step-dependent wobble, so that
/// chunks asked at different steps disagree where they overlap.
/// </summary>
public sealed class LatencyControllerTests
{
    const int ActionSteps = 8, Predicted = 15, Lead = Predicted - ActionSteps;

    /// <param name="refuse">Steps whose request the source refuses (a policy server's overloaded).</param>
    sealed class ScriptedSource(params long[] refuse) : IChunkSource
    {
        public List<(long Step, ActionPrior? Prior)> Requests { get; } = [];

        public IReadOnlyList<Vec2>? Observe(long step, PushTEnv env, bool request, ActionPrior? prior = null)
        {
            if (!request) return null;
            var keypoints = Array.ConvertAll(env.Keypoints(), v => (float)v);
            Requests.Add((step, prior));
            if (refuse.Contains(step)) return ChunkedController.Refused;
            var agent = new Vec2(keypoints[16], keypoints[17]);
            var target = new Vec2(keypoints[0], keypoints[1]);
            return Enumerable.Range(1, Predicted)
                .Select(i => agent + (target - agent) * (i / (double)Predicted) + new Vec2(10 * Math.Sin(step + i), 0))
                .ToList();
        }
    }

    [Theory]
    [InlineData(100_000)]
    [InlineData(100_007)]
    public void Zero_latency_gives_exactly_the_lockstep_episode(long seed)
    {
        var lockstep = new ChunkedController(new ScriptedSource(), ActionSteps);
        var latency = new LatencyController(new ScriptedSource(), Lead, 0, ChunkSeam.Naive);
        var expected = Episode.Run(seed, lockstep.Act, 60);
        var actual = Episode.Run(seed, latency.Act, 60);

        Assert.Equal(expected.Steps.Select(s => s.Action), actual.Steps.Select(s => s.Action));
        Assert.Equal(expected.Steps.Select(s => s.Result.Reward), actual.Steps.Select(s => s.Result.Reward));
        Assert.Equal(lockstep.Chunks, latency.Chunks);
        Assert.Equal(lockstep.Sources, latency.Sources);
        Assert.Equal(0, latency.StartupTicks + latency.DeadlineMisses);
    }

    [Fact]
    public void A_chunk_asked_at_step_k_is_used_from_step_k_plus_d_and_the_robot_holds_before_the_first()
    {
        var source = new ScriptedSource();
        var controller = new LatencyController(source, Lead, 3, ChunkSeam.Inpaint);
        var run = Episode.Run(100_001, controller.Act, 30);

        // Asked at 0 (usable 3), then whenever 7 planned actions remain: step 8 (plan 8…14), usable at 11; step 19 …
        Assert.Equal([0L, 8, 16, 24], source.Requests.Select(r => r.Step));
        Assert.Equal(3, controller.StartupTicks);
        Assert.Equal(0, controller.DeadlineMisses);
        Assert.Equal([-2, -2, -2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1], controller.Sources.Take(13));
        // Held ticks keep the agent where it is.
        Assert.Equal(run.Steps[0].State.Agent, run.Steps[0].Action);
        // The request at 8 carries chunk 0's plan for steps 8 … 14, the first 3 of which run before chunk 1 is usable.
        var prior = source.Requests[1].Prior!;
        Assert.Equal(3, prior.Frozen);
        Assert.Equal(run.Steps.Skip(8).Take(3).Select(s => s.Action), prior.Actions.Take(3));
        Assert.Equal(7, prior.Actions.Count);
        Assert.Null(source.Requests[0].Prior);
    }

    [Fact]
    public void Lockstep_holds_a_step_for_each_refused_request_and_asks_again_at_the_next()
    {
        // Refused at 0 and 1 (before any chunk), then at 10 (chunk 0's 8 actions ran 2 … 9).
        var source = new ScriptedSource(0, 1, 10);
        var controller = new ChunkedController(source, ActionSteps);
        var run = Episode.Run(100_005, controller.Act, 24);

        Assert.Equal([0L, 1, 2, 10, 11, 19], source.Requests.Select(r => r.Step));
        Assert.Equal(3, controller.Refusals);
        Assert.Equal(2, controller.StartupTicks);
        Assert.Equal(1, controller.DeadlineMisses);
        Assert.Equal(3, controller.Chunks);
        Assert.Equal([ExecutedActions.Startup, ExecutedActions.Startup, 0, 0, 0, 0, 0, 0, 0, 0, ExecutedActions.Held, 1], controller.Sources.Take(12));
        // A held step keeps the agent where it is.
        Assert.Equal(run.Steps[0].State.Agent, run.Steps[0].Action);
        Assert.Equal(run.Steps[10].State.Agent, run.Steps[10].Action);
    }

    [Fact]
    public void Under_latency_a_refused_request_is_asked_again_at_the_next_step_while_the_plan_runs()
    {
        var source = new ScriptedSource(8);
        var controller = new LatencyController(source, Lead, 2, ChunkSeam.Naive);
        Episode.Run(100_006, controller.Act, 20);
        Assert.Equal([0L, 8, 9, 17], source.Requests.Select(r => r.Step));
        Assert.Equal(1, controller.Refusals);
        Assert.Equal(0, controller.DeadlineMisses);
    }

    [Fact]
    public void Latency_beyond_the_rest_of_the_chunk_misses_deadlines()
    {
        var controller = new LatencyController(new ScriptedSource(), Lead, 9, ChunkSeam.Naive);
        Episode.Run(100_002, controller.Act, 40);
        // Chunk 0 is usable at 9 for steps 9 … 14; step 8 cannot ask (chunk 0 is on its way), step 9 does (6 planned ≤ 7),
        // and that chunk is usable at 18: steps 15, 16, 17 have no plan.
        Assert.Equal(9, controller.StartupTicks);
        Assert.True(controller.DeadlineMisses >= 3);
        Assert.Equal(ExecutedActions.Held, controller.Sources[15]);
    }

    [Fact]
    public void Blend_mixes_older_and_newer_plans_where_they_overlap()
    {
        var naive = new LatencyController(new ScriptedSource(), Lead, 2, ChunkSeam.Naive);
        var blend = new LatencyController(new ScriptedSource(), Lead, 2, ChunkSeam.Blend);
        var older = new ScriptedSource().Observe(0, new PushTEnv(100_003), true)!;
        var a = Episode.Run(100_003, naive.Act, 12);
        var b = Episode.Run(100_003, blend.Act, 12);
        // Steps 2 … 9 come from chunk 0 in both; chunk 1 (asked at 8) is usable at 10, where chunk 0 still plans 10 … 14.
        Assert.Equal(a.Steps.Take(10).Select(s => s.Action), b.Steps.Take(10).Select(s => s.Action));
        Assert.Equal(older[9], a.Steps[9].Action);
        var expected = 0.3 * older[10] + 0.7 * a.Steps[10].Action;
        Assert.Equal(expected.X, b.Steps[10].Action.X, 9);
        Assert.Equal(expected.Y, b.Steps[10].Action.Y, 9);
    }

    [Fact]
    public void The_same_seed_and_latency_give_the_same_episode()
    {
        var first = Episode.Run(100_004, new LatencyController(new ScriptedSource(), Lead, 4, ChunkSeam.Blend).Act, 50);
        var second = Episode.Run(100_004, new LatencyController(new ScriptedSource(), Lead, 4, ChunkSeam.Blend).Act, 50);
        Assert.Equal(first.Steps.Select(s => s.Action), second.Steps.Select(s => s.Action));
    }

    /// <summary>Second differences worked out by hand on a sequence of two chunks with a jump between them.</summary>
    [Fact]
    public void Seam_and_intra_jerks_of_a_hand_made_sequence()
    {
        // Chunk 0 moves +1 px per step in x (no jerk), chunk 1 starts 5 px further and moves +1 px in y.
        Vec2[] actions = [new(0, 0), new(1, 0), new(2, 0), new(3, 0), new(8, 1), new(8, 2), new(8, 3)];
        int[] sources = [0, 0, 0, 0, 1, 1, 1];
        var (seam, intra) = ExecutedActions.Jerks(actions, sources);
        // Centres t = 1, 2 inside chunk 0: 0. t = 3: (8,1) − 2(3,0) + (2,0) = (4, 1); t = 4: (8,2) − 2(8,1) + (3,0) = (−5, 0);
        // t = 5 inside chunk 1: (8,3) − 2(8,2) + (8,1) = 0.
        Assert.Equal([Math.Sqrt(17), 5.0], seam);
        Assert.Equal([0.0, 0.0, 0.0], intra);

        // Steps before the first chunk count nowhere; a step held after it (a miss) makes seams on both sides.
        var (startSeam, startIntra) = ExecutedActions.Jerks([new(0, 0), new(0, 0), new(5, 0), new(6, 0), new(7, 0)], [-2, -2, 0, 0, 0]);
        Assert.Empty(startSeam);
        Assert.Equal([0.0], startIntra);
        var (heldSeam, heldIntra) = ExecutedActions.Jerks([new(0, 0), new(1, 0), new(1, 0), new(3, 0), new(4, 0)], [0, 0, -1, 1, 1]);
        Assert.Equal([1.0, 2.0, 1.0], heldSeam);   // centres 1: (1,0)−2(1,0)+(0,0); 2: (3,0)−2(1,0)+(1,0); 3: (4,0)−2(3,0)+(1,0)
        Assert.Empty(heldIntra);
    }
}
