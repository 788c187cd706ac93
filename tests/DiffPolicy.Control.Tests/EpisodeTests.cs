using DiffPolicy.Protocol;

namespace DiffPolicy.Control.Tests;

public class EpisodeTests
{
    [Fact]
    public void A_lockstep_episode_gets_chunks_that_start_at_the_observed_step()
    {
        var policy = new EchoPolicy();
        using var run = new ServerRun(policy);
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        robot.Hello();
        // The papers' protocol: observe, execute the first 8 of the chunk's 15 actions, observe again; every step's
        // observation feeds the history.
        var x = 0f;
        for (long step = 0; step < 40; step++)
        {
            if (step % 8 != 0)
            {
                robot.SendObs(episode: 0, step, x, -x, infer: false);
            }
            else
            {
                var chunk = robot.Step(episode: 0, step, x, -x);
                Assert.Equal((step, 15, 2, 0.1), (chunk.StartStep, chunk.Count, chunk.ActionDim, chunk.Dt));
                Assert.Equal(x + 0.07f, chunk.Values[14], 5);
                Assert.Equal(-x, chunk.Values[15]);
                Assert.Equal((3, 24), (chunk.Timing.Iterations, chunk.Timing.Evaluations));
                Assert.True(chunk.Timing.InferMs >= 0 && chunk.Timing.QueueMs >= 0);
            }
            x += 1;
        }
        var windows = policy.Windows.ToArray();
        Assert.Equal(5, windows.Length);
        // Step 0: the window before the episode repeats the first observation.
        Assert.Equal([0f, 0f, 0f, 0f], windows[0].Data["agent_pos"]);
        // Step 8: observations of steps 7 and 8.
        Assert.Equal([7f, -7f, 8f, -8f], windows[1].Data["agent_pos"]);
        Assert.Equal(8, windows[1].Step);
        Assert.Single(policy.Threads);
    }

    [Fact]
    public void A_skipped_step_repeats_the_observation_before_it()
    {
        var policy = new EchoPolicy();
        using var run = new ServerRun(policy);
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        robot.Hello();
        robot.Step(episode: 0, step: 0, 1, 1);
        robot.Step(episode: 0, step: 5, 2, 2);
        Assert.Equal([1f, 1f, 2f, 2f], policy.Windows.Last().Data["agent_pos"]);
    }

    [Fact]
    public void A_new_episode_or_a_reset_starts_the_history_over_and_resets_the_policy()
    {
        var policy = new EchoPolicy();
        using var run = new ServerRun(policy);
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        robot.Hello();
        robot.Step(episode: 0, step: 0, 1, 1);
        robot.Step(episode: 0, step: 1, 2, 2);
        robot.Step(episode: 1, step: 0, 5, 5);
        Assert.Equal([5f, 5f, 5f, 5f], policy.Windows.Last().Data["agent_pos"]);
        robot.Link.Send(new Reset());
        robot.Step(episode: 1, step: 0, 6, 6);
        Assert.Equal([6f, 6f, 6f, 6f], policy.Windows.Last().Data["agent_pos"]);
        // The first episode's start needs no reset: the policy had not seen the robot yet.
        Assert.Equal(["arm-1", "arm-1"], policy.Resets);
    }

    [Fact]
    public void Steps_must_increase_within_an_episode()
    {
        using var run = new ServerRun(new EchoPolicy());
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        robot.Hello();
        robot.Step(episode: 0, step: 4, 1, 1);
        var seq = robot.SendObs(episode: 0, step: 4, 1, 1);
        Assert.Equal((ErrorCodes.OutOfOrder, seq), (robot.Expect<ProtocolError>().Code, seq));
        robot.Step(episode: 0, step: 5, 1, 1);
    }

    [Fact]
    public void Observations_must_match_the_policy_shapes()
    {
        using var run = new ServerRun(new EchoPolicy());
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        robot.Hello();
        foreach (var data in new Dictionary<string, float[]>[] { new() { ["agent_pos"] = [1] }, new() { ["other"] = [1, 2] }, new() { ["agent_pos"] = [1, 2], ["other"] = [1] } })
        {
            robot.Link.Send(new Observation(7, 0, 0, 0, true, data));
            var error = robot.Expect<ProtocolError>();
            Assert.Equal((ErrorCodes.BadShape, 7UL), (error.Code, error.Seq));
        }
        robot.Step(episode: 0, step: 0, 1, 1);
    }

    [Fact]
    public void A_failing_policy_answers_policy_failed_and_keeps_serving()
    {
        using var run = new ServerRun(new EchoPolicy());
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        robot.Hello();
        var seq = robot.SendObs(episode: 0, step: 0, EchoPolicy.PoisonX, 0);
        var error = robot.Expect<ProtocolError>();
        Assert.Equal((ErrorCodes.PolicyFailed, seq), (error.Code, error.Seq));
        Assert.Contains("poisoned", error.Text, StringComparison.Ordinal);
        Assert.Equal(1L, robot.Step(episode: 0, step: 1, 1, 1).StartStep);
    }

    [Fact]
    public void A_reset_cancels_the_robots_running_inference_so_its_next_request_does_not_wait_behind_it()
    {
        var policy = new EchoPolicy(delay: TimeSpan.FromSeconds(3));
        using var run = new ServerRun(policy);
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        robot.Hello();
        robot.SendObs(episode: 0, step: 0, 0, 0);
        Assert.True(SpinWait.SpinUntil(() => !policy.Windows.IsEmpty, TimeSpan.FromSeconds(5)));
        robot.Link.Send(new Reset());
        robot.SendObs(episode: 1, step: 0, 7, 7);
        var chunk = robot.Expect<ActionChunk>(TimeSpan.FromSeconds(10));
        Assert.Equal(1L, chunk.Episode);
        // Waiting behind the cancelled inference would have queued it for the rest of its 3 s.
        Assert.True(chunk.Timing.QueueMs < 1500, $"queue {chunk.Timing.QueueMs} ms");
        Assert.Equal(1, run.Server.Stats.CancelledInferences);
        Assert.Equal(0, run.Server.Stats.StaleReplies);
    }

    [Fact]
    public void The_latest_observation_wins_while_the_policy_is_busy()
    {
        var policy = new EchoPolicy(delay: TimeSpan.FromMilliseconds(300));
        using var run = new ServerRun(policy);
        using var robot = new TestRobot(run.Endpoint, "arm-1");
        robot.Hello();
        robot.SendObs(episode: 0, step: 0, 0, 0);
        Assert.True(SpinWait.SpinUntil(() => !policy.Windows.IsEmpty, TimeSpan.FromSeconds(5)));
        ulong last = 0;
        for (var step = 1; step < 6; step++)
        {
            last = robot.SendObs(episode: 0, step, step, 0);
        }
        // Step 0 is being inferred; steps 1–5 wait in one slot where each replaces the one before.
        var first = robot.Expect<ActionChunk>();
        var second = robot.Expect<ActionChunk>();
        Assert.Equal((1UL, last), (first.ObsSeq, second.ObsSeq));
        Assert.Equal(5L, second.StartStep);
        Assert.Equal(4, run.Server.Stats.Superseded);
        Assert.True(second.Timing.QueueMs >= 200, $"queue {second.Timing.QueueMs} ms");
        robot.ExpectSilence(TimeSpan.FromMilliseconds(500));
    }
}
