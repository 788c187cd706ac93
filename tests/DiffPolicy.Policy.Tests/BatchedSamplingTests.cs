using System.Diagnostics;
using DiffPolicy.Policy.Checkpoints;
using DiffPolicy.Policy.Network;
using DiffPolicy.Policy.Sampling;
using DiffPolicy.Policy.Schedulers;
using DiffPolicy.Tests;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Tests;

/// <summary>
/// Several samples in one ParaDiGMS run (<see cref="DiffusionSampler.Serve"/>) on the original network's weights
/// (fixtures/unet): each sample's trajectory must be the one it gets alone with the same conditioning and noise
/// (<see cref="DiffusionSampler.Sample(Tensor, SamplingNoise)"/>, batch 1), whoever runs beside it and whenever it joins.
/// </summary>
public sealed class BatchedSamplingTests(ITestOutputHelper output) : UnetSamplingFixture
{
    SampleRequest Request(DiffusionSampler sampler, int seed)
    {
        using var generator = new Generator((ulong)(1000 + seed));
        var cond = randn([1, Network.Config.GlobalCondDim], generator: generator).DetachFromDisposeScope();
        return new SampleRequest(cond, sampler.DrawNoise(1, generator)) { Tag = seed };
    }

    /// <summary>Hands in its samples in waves: wave w is offered from the run's iteration w·gap on.</summary>
    sealed class WaveFeed(IReadOnlyList<IReadOnlyList<SampleRequest>> waves, int gap) : ISampleFeed
    {
        int calls, given;

        public Dictionary<int, SampleOutcome> Outcomes { get; } = [];
        public Dictionary<int, Tensor> Trajectories { get; } = [];
        public int MostRunning { get; private set; }

        public IReadOnlyList<SampleRequest> Take(int running)
        {
            var call = calls++;
            MostRunning = Math.Max(MostRunning, running);
            var offered = new List<SampleRequest>();
            while (given < waves.Count && given * gap <= call) offered.AddRange(waves[given++]);
            return offered;
        }

        public void Finished(SampleOutcome outcome)
        {
            var seed = (int)outcome.Request.Tag!;
            Outcomes[seed] = outcome;
            if (outcome.Trajectory is { } t) Trajectories[seed] = t.clone().DetachFromDisposeScope();
        }
    }

    [Theory]
    [InlineData("ddpm", 100, 8, 1, 0.1)]
    [InlineData("ddpm", 100, 10, 2, 0.1)]
    [InlineData("ddpm", 100, 10, 2, 0.0)]
    [InlineData("ddim", 20, 8, 2, 0.1)]
    [InlineData("dpm_solver", 50, 8, 2, 0.1)]
    public void Each_sample_of_a_batch_equals_its_chunk_alone(string kind, int steps, int window, int workers, double tolerance)
    {
        using var scope = NewDisposeScope();
        using var scheduler = Create(kind, steps);
        var sampler = new DiffusionSampler(Network, scheduler, new SamplerOptions { Window = window, Tolerance = tolerance, Workers = workers });
        // Three join at once, two more after 3 iterations, one after 6: windows at different steps share calls.
        var requests = Enumerable.Range(0, 6).Select(i => Request(sampler, i)).ToList();
        var feed = new WaveFeed([requests[..3], requests[3..5], requests[5..]], 3);
        sampler.Serve(feed);
        Assert.True(feed.MostRunning >= 3);

        foreach (var request in requests)
        {
            var seed = (int)request.Tag!;
            using var alone = sampler.Sample(request.GlobalCond, request.Noise);
            var outcome = feed.Outcomes[seed];
            double difference = (alone.Trajectory - feed.Trajectories[seed]).abs().max().item<float>();
            double scale = Math.Max(1, alone.Trajectory.abs().max().item<float>());
            output.WriteLine($"{kind} P={window} {workers} workers τ={tolerance} sample {seed}: alone {alone.Stats.Iterations} iterations, in the batch {outcome.Stats.Iterations} (largest batch {outcome.Stats.Batch}), max |Δ| = {difference:E2}");
            Assert.Equal(SampleStatus.Converged, outcome.Status);
            // DPM-Solver++ does not clip x̂0 and with these untrained weights grows to |x| ~ 10³: 1e-5 relative to the
            // trajectory's scale, as in SamplerTests (absolute for DDPM/DDIM, |x| ≤ 1).
            Assert.InRange(difference, 0, 1e-5 * scale);
            if (tolerance > 0)
            {
                // At τ = 0 a step is accepted only when its update is exactly zero, which rounding decides: the
                // trajectory is the same, the iteration count need not be.
                Assert.Equal(alone.Stats.Iterations, outcome.Stats.Iterations);
                Assert.Equal(alone.Certificates[0].MaxError, outcome.Certificate.MaxError, 1e-3);
            }
            Assert.True(outcome.Certificate.Converged);
            Assert.InRange(outcome.Certificate.MaxError, 0, tolerance);
            feed.Trajectories[seed].Dispose();
            request.GlobalCond.Dispose();
            request.Noise.Dispose();
        }
    }

    [Fact]
    public void Lockstep_windows_reach_the_same_fixed_point_and_no_sample_stops_earlier_than_alone()
    {
        using var scope = NewDisposeScope();
        using var scheduler = Create("ddpm", 100);
        var options = new SamplerOptions { Window = 8, Tolerance = 0, BatchWindows = BatchWindows.Lockstep };
        var lockstep = new DiffusionSampler(Network, scheduler, options);
        var sequential = new DiffusionSampler(Network, scheduler, new SamplerOptions { Method = SamplerMethod.Sequential });
        var requests = Enumerable.Range(0, 3).Select(i => Request(lockstep, i)).ToList();
        // A second wave offered from the second iteration on waits for the batch to end: the feed is only asked when nothing runs.
        var feed = new WaveFeed([requests[..2], requests[2..]], 1);
        lockstep.Serve(feed);
        Assert.Equal(0, feed.MostRunning);
        Assert.Equal(3, feed.Outcomes.Count);
        foreach (var request in requests)
        {
            var seed = (int)request.Tag!;
            using var expected = sequential.Sample(request.GlobalCond, request.Noise);
            Assert.InRange((expected.Trajectory - feed.Trajectories[seed]).abs().max().item<float>(), 0, 1e-5);
        }
        Assert.Equal(feed.Outcomes[0].Stats.Iterations, feed.Outcomes[1].Stats.Iterations);
    }

    /// <summary>
    /// Anytime: a deadline that passes after the first iterations stops the sample with a partial certificate and a
    /// finite trajectory; its neighbours without deadline still equal their chunks alone. Every solver, so every integer
    /// slot index path of the batched, anytime and cancelled code runs (libtorch refuses a float alpha on an integer
    /// tensor: such a bug threw "argument alpha must not be a floating point number" under load in a past session).
    /// </summary>
    [Theory]
    [InlineData("ddpm", 100)]
    [InlineData("ddim", 20)]
    [InlineData("dpm_solver", 50)]
    public void A_deadline_returns_the_converged_prefix_with_a_certificate_and_leaves_the_others_alone(string kind, int steps)
    {
        using var scope = NewDisposeScope();
        using var scheduler = Create(kind, steps);
        var sampler = new DiffusionSampler(Network, scheduler, new SamplerOptions { Window = 8, Tolerance = 0.1, Workers = 2 });
        var requests = Enumerable.Range(0, 4).Select(i => Request(sampler, i)).ToList();
        requests[1] = requests[1] with { Deadline = Stopwatch.GetTimestamp() };    // due at once: one iteration, then out
        using var cancel = new CancellationTokenSource();
        requests[2] = requests[2] with { Cancellation = cancel.Token };
        var feed = new CancellingFeed(requests, cancel, afterCalls: 2);
        sampler.Serve(feed);

        var early = feed.Outcomes[1];
        output.WriteLine($"{kind}: deadline certificate {early.Certificate}, {early.Stats.Iterations} iterations");
        Assert.Equal(SampleStatus.DeadlineReached, early.Status);
        Assert.Equal(1, early.Stats.Iterations);
        Assert.False(early.Certificate.Converged);
        Assert.InRange(early.Certificate.ConvergedSteps, 0, steps - 1);
        Assert.True(double.IsFinite(early.Certificate.MaxError) && early.Certificate.MaxError >= 0);
        Assert.True(isfinite(feed.Trajectories[1]).all().item<bool>());
        Assert.Equal([1L, 16, 2], feed.Trajectories[1].shape);

        Assert.Equal(SampleStatus.Cancelled, feed.Outcomes[2].Status);
        Assert.Null(feed.Outcomes[2].Trajectory);
        foreach (var seed in new[] { 0, 3 })
        {
            using var alone = sampler.Sample(requests[seed].GlobalCond, requests[seed].Noise);
            double difference = (alone.Trajectory - feed.Trajectories[seed]).abs().max().item<float>();
            double scale = Math.Max(1, alone.Trajectory.abs().max().item<float>());
            output.WriteLine($"{kind} sample {seed}: alone {alone.Stats.Iterations} iterations, beside the others {feed.Outcomes[seed].Stats.Iterations}, max |Δ| = {difference:E2}");
            Assert.Equal(SampleStatus.Converged, feed.Outcomes[seed].Status);
            Assert.InRange(difference, 0, 1e-5 * scale);
        }
    }

    [Fact]
    public void A_sample_stopped_at_its_deadline_after_more_iterations_has_converged_more_steps()
    {
        using var scope = NewDisposeScope();
        using var scheduler = Create("ddpm", 100);
        var sampler = new DiffusionSampler(Network, scheduler, new SamplerOptions { Window = 8, Tolerance = 0.1 });
        var request = Request(sampler, 7);
        using var alone = sampler.Sample(request.GlobalCond, request.Noise);
        var feed = new DeadlineAfterFeed(request, iterations: 6);
        sampler.Serve(feed);
        var outcome = feed.Outcome!;
        output.WriteLine($"after 6 of {alone.Stats.Iterations} iterations: {outcome.Certificate}, max |x̂0 − x_S| {feed.Distance(alone.Trajectory):F3}");
        Assert.Equal(SampleStatus.DeadlineReached, outcome.Status);
        Assert.InRange(outcome.Certificate.ConvergedSteps, 6, 99);
        Assert.Equal(6, outcome.Stats.Iterations);
    }

    [Fact]
    public void Serving_many_batches_leaves_no_live_tensors()
    {
        using var scheduler = Create("ddpm", 20);
        // One worker: the statistic counts this thread's tensors, and worker threads' outputs are disposed here.
        var sampler = new DiffusionSampler(Network, scheduler, new SamplerOptions { Window = 8, Workers = 1 });
        void Once()
        {
            var requests = Enumerable.Range(0, 3).Select(i => Request(sampler, i)).ToList();
            requests[0] = requests[0] with { Deadline = Stopwatch.GetTimestamp() };
            var feed = new WaveFeed([requests[..2], requests[2..]], 2);
            sampler.Serve(feed);
            foreach (var t in feed.Trajectories.Values) t.Dispose();
            foreach (var r in requests)
            {
                r.GlobalCond.Dispose();
                r.Noise.Dispose();
            }
        }
        Once();
        Once();
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 5; i++) Once();
        // No growth (the count may fall: it is created minus disposed on this thread, and other tests' tensors go too).
        Assert.InRange(DisposeScopeManager.Statistics.ThreadTotalLiveCount, long.MinValue, before);
    }

    sealed class CancellingFeed(List<SampleRequest> requests, CancellationTokenSource cancel, int afterCalls) : ISampleFeed
    {
        int calls;
        public Dictionary<int, SampleOutcome> Outcomes { get; } = [];
        public Dictionary<int, Tensor> Trajectories { get; } = [];

        public IReadOnlyList<SampleRequest> Take(int running)
        {
            if (++calls == afterCalls) cancel.Cancel();
            return calls == 1 ? requests : [];
        }

        public void Finished(SampleOutcome outcome)
        {
            Outcomes[(int)outcome.Request.Tag!] = outcome;
            if (outcome.Trajectory is { } t) Trajectories[(int)outcome.Request.Tag!] = t.clone().DetachFromDisposeScope();
        }
    }

    /// <summary>One sample whose deadline is set, once it has run <c>iterations</c> iterations, to now.</summary>
    sealed class DeadlineAfterFeed(SampleRequest request, int iterations) : ISampleFeed
    {
        int calls;
        Tensor? trajectory;
        public SampleOutcome? Outcome { get; private set; }

        public IReadOnlyList<SampleRequest> Take(int running)
        {
            calls++;
            // Take is called before every iteration, and the deadline check follows it.
            if (calls == iterations + 1) request.Deadline = Stopwatch.GetTimestamp();
            return calls == 1 ? [request] : [];
        }

        public void Finished(SampleOutcome outcome)
        {
            Outcome = outcome;
            trajectory = outcome.Trajectory?.clone().DetachFromDisposeScope();
        }

        public double Distance(Tensor reference) => (reference - trajectory!).abs().max().item<float>();
    }
}
