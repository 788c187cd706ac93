namespace DiffPolicy.Policy.Tests;

public class PolicyConfigTests
{
    static string Configs => Path.Combine(RepoPaths.Root, "configs");

    [Fact]
    public void Shipped_configs_load_and_round_trip()
    {
        foreach (var path in Directory.GetFiles(Configs, "*.json"))
        {
            var config = PolicyConfig.Load(path);
            Assert.Equal(config.ToJson(), PolicyConfig.FromJson(config.ToJson()).ToJson());
            Assert.Equal(config.NObsSteps * config.ObsDim, config.Model.GlobalCondDim);
        }
    }

    [Fact]
    public void Inconsistent_configs_are_refused_with_the_reason()
    {
        var json = File.ReadAllText(Path.Combine(Configs, "pusht_keypoints.json"));
        var e = Assert.Throws<InvalidDataException>(() => PolicyConfig.FromJson(json.Replace("\"n_obs_steps\": 2", "\"n_obs_steps\": 3", StringComparison.Ordinal)));
        Assert.Contains("global_cond_dim", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidDataException>(() => PolicyConfig.FromJson(json.Replace("\"horizon\": 16", "\"horizon\": 16, \"horizn\": 3", StringComparison.Ordinal)));
        Assert.Contains("horizn", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<InvalidDataException>(() => PolicyConfig.FromJson(json.Replace("\"n_action_steps\": 8", "\"n_action_steps\": 16", StringComparison.Ordinal)));
        Assert.Contains("horizon", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Warm_start_is_read_from_the_sampler_section_and_defaults_to_on()
    {
        var json = File.ReadAllText(Path.Combine(Configs, "pusht_keypoints.json"));
        Assert.True(PolicyConfig.FromJson(json).Sampler.WarmStart);
        Assert.False(PolicyConfig.FromJson(json.Replace("\"warm_start\": true", "\"warm_start\": false", StringComparison.Ordinal)).Sampler.WarmStart);
        // Checkpoints written before the setting existed have no key: they get the default.
        Assert.True(PolicyConfig.FromJson(json.Replace(",\n    \"warm_start\": true", "", StringComparison.Ordinal)).Sampler.WarmStart);
        Assert.DoesNotContain("warm_start", json.Replace(",\n    \"warm_start\": true", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
