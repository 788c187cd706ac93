using DiffPolicy.Protocol;

namespace DiffPolicy.Control.Tests;

/// <summary>The server hands a robot's plan prior to the policy with the window, and refuses priors that do not fit the policy.</summary>
public class PlanPriorServerTests
{
    static Observation Obs(ulong seq, long step, PlanPrior? prior) =>
        new(seq, 1, step, step * 0.1, true, new Dictionary<string, float[]> { ["agent_pos"] = [1, 2] }, prior);

    [Fact]
    public void The_policy_sees_the_prior_of_the_observation_that_asked()
    {
        var policy = new EchoPolicy();
        using var run = new ServerRun(policy);
        using var robot = new TestRobot(run.Endpoint, "arm");
        robot.Hello();
        Assert.True(robot.Link.Send(Obs(1, 0, null)));
        robot.Expect<ActionChunk>();
        Assert.True(robot.Link.Send(Obs(2, 8, new PlanPrior([1, 2, 3, 4, 5, 6], 2, [1, 1, 0.5f]))));
        robot.Expect<ActionChunk>();

        var windows = policy.Windows.ToArray();
        Assert.Null(windows[0].Prior);
        Assert.Equal([1f, 2, 3, 4, 5, 6], windows[1].Prior!.Actions);
        Assert.Equal(2, windows[1].Prior!.Frozen);
    }

    [Theory]
    [InlineData(3, 0, null, ErrorCodes.BadShape)]                 // not whole rows of action_dim 2
    [InlineData(32, 0, null, ErrorCodes.BadShape)]                // 16 rows: more than the 15 a chunk carries
    [InlineData(6, 4, null, ErrorCodes.BadMessage)]               // 4 frozen of 3 rows
    [InlineData(6, 1, new[] { 1f, 0.5f }, ErrorCodes.BadShape)]   // 2 weights for 3 rows
    [InlineData(4, 1, new[] { 1f, 1.5f }, ErrorCodes.BadShape)]   // a weight above 1
    public void A_prior_that_does_not_fit_the_policy_is_refused(int values, int frozen, float[]? weights, string code)
    {
        var policy = new EchoPolicy();
        using var run = new ServerRun(policy);
        using var robot = new TestRobot(run.Endpoint, "arm");
        robot.Hello();
        Assert.True(robot.Link.Send(Obs(7, 0, new PlanPrior(new float[values], frozen, weights))));
        var error = robot.Expect<ProtocolError>();
        Assert.Equal((code, 7UL), (error.Code, error.Seq!.Value));
        Assert.Contains("prior", error.Text);
        Assert.Empty(policy.Windows);
    }
}
