using System.Diagnostics;
using DiffPolicy.Policy.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Sampling;

/// <summary>
/// ParaDiGMS (Shih et al., NeurIPS 2023): Picard iteration over a sliding window of P steps, for any number of
/// samples at once. Each sample has its own buffer buf[0 … S] (the guesses of x_j) and its own window [b, e); one
/// iteration evaluates every sample's window in one batched network call, then for each sample rebuilds buf[b+1 … e]
/// from the exact buf[b] by a cumulative sum of drifts (mean_j − x_j) and the pre-drawn noise (with inpainting, a
/// linear recurrence that carries the blend towards the known actions exactly, <see cref="DenoisingProblem.Accumulate"/>),
/// and slides b past every
/// step whose update moved by at most τ (relative to the step's DDPM standard deviation, per element).
/// </summary>
/// <remarks>
/// <para>
/// Samples are independent: a sample's window depends on its own errors only, so its trajectory is the one it has
/// alone with the same noise; samples join between iterations and leave as soon as they converge (per-sample windows,
/// <see cref="BatchWindows.PerSample"/>). <see cref="BatchWindows.Lockstep"/> instead slides every window by the
/// slowest sample's acceptance and admits new samples only when the batch is empty (measured against per-sample
/// windows in docs/fleet.md).
/// </para>
/// <para>
/// Guesses of steps the window has not reached (<see cref="SamplerOptions.WarmStart"/>): the paper copies the last
/// latent. Warm start instead begins with a window of the one exact step and extends the window by rolling the solver
/// forward from the newest latent with the newest slot's model output and x̂0 held fixed — no network call, a few small
/// tensor operations per step. x̂0 drifts slowly along the trajectory, so the new slots start close to their fixed
/// point and fewer Picard iterations are needed (measured in docs/sampling.md, Warm start).
/// The fixed point is the same.
/// </para>
/// <para>
/// DPM-Solver++ 2M is multistep: the drift of step j reads x̂0 of step j−1. Inside the window that is x̂0 of the slot
/// before, evaluated in the same call on the current guesses, so the fixed point is still the sequential trajectory.
/// For the first slot it is x̂0 of step b−1 kept from the iteration that accepted b−1, computed on a guess of x_{b−1}
/// within the tolerance of its final value (identical when τ = 0). Every accepted step therefore used inputs within τ,
/// as for one-step solvers.
/// </para>
/// <para>
/// Anytime (<see cref="SampleRequest.Deadline"/>): a sample whose next iteration would end after its deadline leaves
/// with the converged prefix and x̂0 for the rest: the network's prediction of x_S at the last accepted step, made
/// from a latent within τ of the sequential one (later window slots are further along but rest on unaccepted
/// latents). Its certificate: the steps accepted so far and the largest error among those not yet accepted.
/// </para>
/// </remarks>
internal sealed class ParadigmsSampler(NoiseNetwork network, Schedulers.DiffusionScheduler scheduler, SamplerOptions options, int horizon)
{
    readonly int steps = scheduler.Steps;
    readonly int window = Math.Min(options.Window, scheduler.Steps);
    readonly double toleranceSquared = options.Tolerance * options.Tolerance;
    readonly double[] inverseVariance = Enumerable.Range(0, scheduler.Steps)
        .Select(j => 1 / (scheduler.StepVariance(j) * horizon * network.Network.Config.InputDim)).ToArray();

    /// <summary>Runs samples from <paramref name="feed"/> until none is running and the feed has none.</summary>
    /// <param name="stop">Checked before every iteration; cancelling throws <see cref="OperationCanceledException"/> (running samples are dropped without outcome).</param>
    /// <returns>Iterations run (network calls).</returns>
    public int Serve(ISampleFeed feed, CancellationToken stop)
    {
        var active = new List<Sample>();
        long lastIteration = 0;
        var iterations = 0;
        try
        {
            while (true)
            {
                stop.ThrowIfCancellationRequested();
                if (options.BatchWindows == BatchWindows.PerSample || active.Count == 0)
                {
                    foreach (var request in feed.Take(active.Count))
                    {
                        var joining = Stopwatch.GetTimestamp();
                        active.Add(new Sample(network.Network, scheduler, request, options.WarmStart ? 1 : window));
                        network.Profile?.Lap(SamplerPhase.Conditioning, joining);
                    }
                }
                var now = Stopwatch.GetTimestamp();
                for (var i = active.Count - 1; i >= 0; i--)
                {
                    var sample = active[i];
                    if (sample.Request.Cancellation.IsCancellationRequested)
                        Finish(feed, active, i, SampleStatus.Cancelled);
                    else if (sample.Request.Deadline is { } deadline && sample.Iterations > 0 && now + lastIteration > deadline)
                        Finish(feed, active, i, SampleStatus.DeadlineReached);
                }
                if (active.Count == 0)
                    return iterations;

                var started = Stopwatch.GetTimestamp();
                Iterate(active);
                iterations++;
                lastIteration = Stopwatch.GetTimestamp() - started;
                for (var i = active.Count - 1; i >= 0; i--)
                {
                    if (active[i].Begin >= steps)
                        Finish(feed, active, i, SampleStatus.Converged);
                }
            }
        }
        finally
        {
            foreach (var sample in active) sample.Dispose();
        }
    }

    void Finish(ISampleFeed feed, List<Sample> active, int index, SampleStatus status)
    {
        var sample = active[index];
        active.RemoveAt(index);
        using (sample)
        {
            var certificate = status == SampleStatus.Converged
                ? new ConvergenceCertificate(steps, steps, Math.Sqrt(sample.AcceptedMaxError), options.Tolerance)
                : new ConvergenceCertificate(sample.Begin, steps, Math.Sqrt(sample.PendingMaxError), options.Tolerance);
            var trajectory = status switch
            {
                SampleStatus.Converged => sample.Buffer[steps],
                SampleStatus.DeadlineReached => Constrained(sample, sample.Latest[0].clone()),
                _ => null,
            };
            var stats = new ChunkStats(Stopwatch.GetElapsedTime(sample.Joined), sample.Iterations, sample.Evaluations, steps, sample.LargestBatch);
            feed.Finished(new SampleOutcome(sample.Request, status, trajectory, stats, certificate));
            trajectory?.Dispose();
        }
    }

    /// <summary>x̂0 blended towards the known actions as the final trajectory would be (ᾱ = 1).</summary>
    Tensor Constrained(Sample sample, Tensor trajectory)
    {
        sample.Problem.Constrain(trajectory, steps);
        return trajectory;
    }

    /// <summary>One Picard sweep of every active sample's window in one network call.</summary>
    void Iterate(List<Sample> active)
    {
        var profile = network.Profile;
        var lap = Stopwatch.GetTimestamp();
        using var scope = NewDisposeScope();
        var n = active.Count;
        var counts = active.Select(s => s.End - s.Begin).ToArray();
        var latents = active.Select(s => s.Buffer[s.Begin..s.End]).ToArray();           // each (count, 1, T, A)
        var rows = cat(latents.Select((l, i) => l.view(counts[i], l.shape[2], l.shape[3])).ToArray());
        using var conditioning = network.Network.Concat(active.Select(s => s.Problem.Rows(s.Begin, s.End - s.Begin)).ToList());
        profile?.Lap(SamplerPhase.Arithmetic, lap);
        var output = network.Evaluate(rows, conditioning);
        lap = Stopwatch.GetTimestamp();

        var modelOutputs = new Tensor[n];
        var predictions = new Tensor[n];
        var errors = new Tensor[n];
        long offset = 0;
        for (var i = 0; i < n; i++)
        {
            var sample = active[i];
            int begin = sample.Begin, end = sample.End, count = counts[i];
            var slots = sample.Problem.StepIndices[begin..end];
            var modelOutput = output[(int)offset..(int)(offset + count)].view(latents[i].shape);
            offset += count;
            var prediction = scheduler.Predict(modelOutput, latents[i], slots);
            Tensor? previous = null;
            if (sample.Predictions is { } kept)
            {
                previous = cat([kept[Math.Max(begin - 1, 0)..Math.Max(begin, 1)], prediction[..(count - 1)]]);
                kept[begin..end].copy_(prediction);
            }
            var stepped = scheduler.Mean(modelOutput, latents[i], prediction, previous, slots);
            if (sample.Problem.ScaledNoise is { } noise) stepped.PlusInPlace(noise[begin..end]);
            var updated = sample.Problem.Accumulate(sample.Buffer[begin], stepped, latents[i], begin);
            var target = sample.Buffer[(begin + 1)..(end + 1)];
            lap = profile?.Lap(SamplerPhase.Arithmetic, lap) ?? lap;
            errors[i] = (updated - target).square().sum([1, 2, 3]);      // (count,)
            lap = profile?.Lap(SamplerPhase.ErrorTest, lap) ?? lap;
            target.copy_(updated);
            modelOutputs[i] = modelOutput;
            predictions[i] = prediction;
        }
        lap = profile?.Lap(SamplerPhase.Arithmetic, lap) ?? lap;
        var squaredErrors = cat(errors).cpu().data<float>().ToArray();

        var accepted = new int[n];
        offset = 0;
        for (var i = 0; i < n; i++)
        {
            accepted[i] = Accept(active[i], squaredErrors.AsSpan((int)offset, counts[i]));
            offset += counts[i];
        }
        if (options.BatchWindows == BatchWindows.Lockstep)
            Array.Fill(accepted, accepted.Min());
        lap = profile?.Lap(SamplerPhase.ErrorTest, lap) ?? lap;

        for (var i = 0; i < n; i++)
        {
            var sample = active[i];
            int count = counts[i], nextBegin = sample.Begin + accepted[i], nextEnd = Math.Min(nextBegin + window, steps);
            sample.Latest.copy_(predictions[i][(accepted[i] - 1)..accepted[i]]);
            if (nextEnd > sample.End)
            {
                if (options.WarmStart)
                {
                    RollOut(sample, sample.End, nextEnd, modelOutputs[i][(count - 1)..], predictions[i][(count - 1)..]);
                }
                else
                {
                    var guesses = sample.Buffer[(sample.End + 1)..(nextEnd + 1)];
                    guesses.copy_(sample.Buffer[sample.End].unsqueeze(0).expand(nextEnd - sample.End, -1, -1, -1));
                    sample.Problem.Constrain(guesses, sample.End + 1);
                }
            }
            sample.Iterations++;
            sample.Evaluations += count;
            sample.LargestBatch = Math.Max(sample.LargestBatch, n);
            sample.Begin = nextBegin;
            sample.End = nextEnd;
        }
        profile?.Lap(SamplerPhase.Arithmetic, lap);
    }

    /// <summary>
    /// Steps the sample's window may slide by: one more than the number of leading slots whose new value matched the
    /// previous guess within τ (the first slot's input was exact). Records the errors for the certificate.
    /// </summary>
    int Accept(Sample sample, ReadOnlySpan<float> squaredError)
    {
        int count = squaredError.Length, accepted = count, failing = -1;
        for (var k = 0; k < count; k++)
        {
            var latent = sample.Begin + 1 + k;   // slot k rebuilt buf[latent]
            if (latent == steps) break;
            if (squaredError[k] * inverseVariance[latent] > toleranceSquared)
            {
                accepted = k + 1;
                failing = k;
                break;
            }
        }
        // Slots before the failing one matched within τ; the failing slot's new value came from accepted inputs and is
        // exact to τ now; slots after it rest on unaccepted inputs: their errors are what remains.
        double pending = 0;
        for (var k = 0; k < count; k++)
        {
            var latent = sample.Begin + 1 + k;
            if (latent == steps) break;
            var error = squaredError[k] * inverseVariance[latent];
            if (k < accepted && k != failing)
                sample.AcceptedMaxError = Math.Max(sample.AcceptedMaxError, error);
            else if (k >= accepted)
                pending = Math.Max(pending, error);
        }
        sample.PendingMaxError = pending;
        return accepted;
    }

    /// <summary>Guesses buf[first+1 … last] by steps first … last−1 of the solver from buf[first] with a fixed model output and x̂0.</summary>
    static void RollOut(Sample sample, int first, int last, Tensor modelOutput, Tensor prediction)
    {
        using var scope = NewDisposeScope();
        for (var j = first; j < last; j++)
            sample.Buffer[(j + 1)..(j + 2)].copy_(sample.Problem.Step(modelOutput, sample.Buffer[j..(j + 1)], prediction, prediction, j));
    }

    /// <summary>One sample's state across iterations; its tensors live outside any iteration's dispose scope.</summary>
    sealed class Sample : IDisposable
    {
        public Sample(INoisePredictor network, Schedulers.DiffusionScheduler scheduler, SampleRequest request, int firstWindow)
        {
            Request = request;
            Joined = Stopwatch.GetTimestamp();
            using var scope = NewDisposeScope();
            Problem = new DenoisingProblem(network, scheduler, request.GlobalCond, request.Noise, request.Inpainting);
            var initial = request.Noise.Initial;
            Buffer = initial.unsqueeze(0).repeat(scheduler.Steps + 1, 1, 1, 1).DetachFromDisposeScope();   // buf[0 … S], (S+1, 1, T, A)
            Problem.Constrain(Buffer, 0);
            Predictions = scheduler.IsMultistep ? zeros_like(Buffer).DetachFromDisposeScope() : null;    // x̂0 of evaluated steps
            Latest = zeros_like(initial).unsqueeze(0).DetachFromDisposeScope();                           // (1, 1, T, A)
            End = Math.Min(firstWindow, scheduler.Steps);
        }

        public SampleRequest Request { get; }
        public DenoisingProblem Problem { get; }
        public Tensor Buffer { get; }
        public Tensor? Predictions { get; }

        /// <summary>x̂0 of step b−1 (b = <see cref="Begin"/>), evaluated on an accepted latent in the latest iteration.</summary>
        public Tensor Latest { get; }

        public long Joined { get; }
        public int Begin { get; set; }
        public int End { get; set; }
        public int Iterations { get; set; }
        public int Evaluations { get; set; }
        public int LargestBatch { get; set; } = 1;

        /// <summary>Squared normalised errors: the largest of accepted steps, and the largest of the window's unaccepted ones.</summary>
        public double AcceptedMaxError { get; set; }
        public double PendingMaxError { get; set; }

        public void Dispose()
        {
            Problem.Dispose();
            Buffer.Dispose();
            Predictions?.Dispose();
            Latest.Dispose();
        }
    }
}
