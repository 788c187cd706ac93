using DiffPolicy.Data;
using DiffPolicy.Sim.PushT.Env;
using DiffPolicy.Sim.PushT.Expert;
using DiffPolicy.Sim.PushT.Physics;
using DiffPolicy.Sim.PushT.Replay;

namespace DiffPolicy.Sim.PushT.Tests;

public class ExpertTests
{
    [Theory]
    [InlineData(100000)]
    [InlineData(100003)]
    [InlineData(7)]
    public void The_expert_solves_a_seed_and_a_plain_replay_of_its_actions_confirms_it(long seed)
    {
        var expert = new PushExpert();
        var episode = Episode.Run(seed, expert.Act, 300);
        Assert.True(episode.Success, $"seed {seed}: no success in {episode.Steps.Count} steps");

        // Independent check: replay the recorded actions from the seed and measure the final coverage afresh.
        var replay = ReplayResult.Run(new ReplayScenario(seed, null, [.. episode.Steps.Select(s => s.Action)]));
        Assert.True(replay.Coverage[^1] > 0.95, $"replayed coverage {replay.Coverage[^1]}");
        var final = replay.States[^1];
        var block = Pose.FromOriginAndAngle(final.Block, final.BlockAngle);
        Assert.Equal(Coverage.Of(block, PushTEnv.Goal), replay.Coverage[^1], 9);
    }

    [Fact]
    public void Actions_stay_in_the_action_space_and_move_smoothly()
    {
        var expert = new PushExpert();
        var episode = Episode.Run(100001, expert.Act, 300);
        Vec2? previous = null;
        foreach (var step in episode.Steps)
        {
            Assert.InRange(step.Action.X, 0, 512);
            Assert.InRange(step.Action.Y, 0, 512);
            if (previous is { } p)
            {
                Assert.True((step.Action - p).Length < 80, $"action jumped {(step.Action - p).Length:F1} px in one step");
            }
            previous = step.Action;
        }
    }

    [Fact]
    public void Demonstrations_are_saved_in_the_replay_buffer_layout()
    {
        var set = new DemonstrationSet();
        var lengths = new List<int>();
        foreach (var seed in new long[] { 3, 4 })
        {
            var expert = new PushExpert();
            var episode = Episode.Run(seed, expert.Act, 8);
            set.Add(episode);
            lengths.Add(episode.Steps.Count);
        }
        var path = Path.Combine(Path.GetTempPath(), $"pusht-demo-{Guid.NewGuid():N}.npz");
        try
        {
            set.Save(path);
            var arrays = Npz.Load(path);
            var n = lengths.Sum();
            Assert.Equal([n, 5], arrays["state"].Shape);
            Assert.Equal([n, 9, 2], arrays["keypoint"].Shape);
            Assert.Equal([n, 2], arrays["action"].Shape);
            Assert.Equal(NpyType.Int64, arrays["episode_ends"].Type);
            Assert.Equal([(long)lengths[0], n], arrays["episode_ends"].ToInt64());
            // Row 0 is seed 3's reset observation: agent and block from numpy's draw.
            var reset = new PushTEnv(3).State;
            var state = arrays["state"].ToFloat32();
            Assert.Equal((float)reset.AgentX, state[0]);
            Assert.Equal((float)reset.BlockAngle, state[4]);
            // The keypoint rows end with the agent, like state's first two columns.
            var keypoint = arrays["keypoint"].ToFloat32();
            Assert.Equal(state[0], keypoint[16]);
            Assert.Equal(state[1], keypoint[17]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
