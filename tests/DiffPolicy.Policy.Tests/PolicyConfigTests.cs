using DiffPolicy.Policy.Schedulers;

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

/// <summary>The one scheduler factory (<see cref="NoiseSchedulerConfig.Create"/>) and the names it reads.</summary>
public class SchedulerFactoryTests
{
    static string Json => File.ReadAllText(Path.Combine(RepoPaths.Root, "configs", "pusht_keypoints.json"));

    [Theory]
    [InlineData("ddpm", SolverKind.Ddpm, typeof(DdpmScheduler))]
    [InlineData("ddim", SolverKind.Ddim, typeof(DdimScheduler))]
    [InlineData("dpm_solver", SolverKind.DpmSolver, typeof(DpmSolverMultistepScheduler))]
    public void Each_solver_name_reads_and_writes_back_and_makes_its_scheduler(string name, SolverKind kind, Type type)
    {
        var config = PolicyConfig.FromJson(Json.Replace("\"solver\": \"ddpm\"", $"\"solver\": \"{name}\"", StringComparison.Ordinal));
        Assert.Equal(kind, config.Scheduler.Solver);
        Assert.Contains($"\"solver\": \"{name}\"", config.ToJson(), StringComparison.Ordinal);
        using var schedule = new NoiseSchedule(config.Scheduler.NumTrainTimesteps);
        using var scheduler = (config.Scheduler with { InferenceSteps = 10, PredictionType = PredictionType.Sample }).Create(schedule);
        Assert.IsType(type, scheduler);
        Assert.Equal(10, scheduler.Steps);
        Assert.Equal(PredictionType.Sample, scheduler.Prediction);
    }

    [Theory]
    [InlineData("\"euler\"")]
    [InlineData("\"DDPM\"")]
    [InlineData("2")]
    [InlineData("null")]
    public void An_unknown_solver_is_refused_in_one_line_naming_the_key(string value)
    {
        var e = Assert.Throws<InvalidDataException>(() => PolicyConfig.FromJson(Json.Replace("\"solver\": \"ddpm\"", $"\"solver\": {value}", StringComparison.Ordinal)));
        Assert.Contains("scheduler.solver", e.Message, StringComparison.Ordinal);
        Assert.Contains("ddpm, ddim, dpm_solver", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_solver_value_outside_the_enum_is_refused_by_validation_and_by_the_factory()
    {
        var config = new NoiseSchedulerConfig { Solver = (SolverKind)7 };
        Assert.Contains("scheduler.solver", Assert.Throws<InvalidDataException>(config.Validate).Message, StringComparison.Ordinal);
        using var schedule = new NoiseSchedule(100);
        Assert.Throws<ArgumentOutOfRangeException>(() => config.Create(schedule));
    }
}
