using DiffPolicy.Control;
using DiffPolicy.Policy;
using DiffPolicy.Protocol;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Serving;

/// <summary>
/// A <see cref="DiffusionPolicy"/> served as an <see cref="IChunkPolicy"/>. Each robot's sampler noise comes from a
/// generator seeded with the episode number when the robot's episode starts and advanced by each chunk, so the same
/// episodes give the same actions in this process and over ZeroMQ. A stateless window's noise comes from a generator
/// seeded with <see cref="StatelessSeed"/>(episode, step), so any server answers it alike. <see cref="Serve"/> samples
/// the jobs of several robots together (<see cref="DiffusionPolicy.Serve"/>). Does not own the policy.
/// </summary>
internal sealed class DiffusionChunkPolicy : IChunkPolicy, IDisposable
{
    readonly DiffusionPolicy policy;
    readonly Dictionary<string, (long Episode, Generator Noise)> noise = [];

    public DiffusionChunkPolicy(DiffusionPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        this.policy = policy;
        Metadata = MetadataOf(policy.Config);
    }

    public PolicyMetadata Metadata { get; }

    /// <summary>
    /// What a policy of <paramref name="config"/> tells robots: its observation keys, low_dim ones as their shape and rgb
    /// ones as the camera frame [height, width, 3] they travel as.
    /// </summary>
    public static PolicyMetadata MetadataOf(PolicyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var keys = config.Inputs.Select(o => o.IsRgb
            ? new ObsKey(o.Key, [o.Shape[1], o.Shape[2], 3], ObsKey.Rgb)
            : new ObsKey(o.Key, [.. o.Shape])).ToList();
        return new PolicyMetadata(keys, config.NObsSteps, config.Horizon, config.NActionSteps, config.ActionDim, config.ControlHz);
    }

    /// <summary>
    /// The window as the policy's observations: low_dim values as they came, camera frames (steps × H × W × 3 bytes)
    /// channels first and scaled by 1/255 in float32, as diffusion_policy's datasets feed its image policies.
    /// </summary>
    public static Dictionary<string, float[]> PolicyInputs(PolicyConfig config, ObservationWindow window)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(window);
        var inputs = new Dictionary<string, float[]>();
        foreach (var o in config.Inputs)
        {
            if (!o.IsRgb)
            {
                inputs[o.Key] = window.Data[o.Key];
                continue;
            }
            int height = o.Shape[1], width = o.Shape[2], plane = height * width;
            var frames = window.Frames[o.Key];
            var chw = new float[frames.Length];
            for (var step = 0; step < window.Steps; step++)
            {
                var offset = step * 3 * plane;
                for (var p = 0; p < plane; p++)
                {
                    for (var c = 0; c < 3; c++)
                    {
                        chw[offset + c * plane + p] = frames[offset + 3 * p + c] / 255f;
                    }
                }
            }
            inputs[o.Key] = chw;
        }
        return inputs;
    }

    public InferenceResult Infer(ObservationWindow window, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(window);
        var generator = window.Stateless ? new Generator(StatelessSeed(window.Episode, window.Step)) : NoiseFor(window.Robot, window.Episode);
        try
        {
            return Result(policy.PredictActions(PolicyInputs(policy.Config, window), 1, generator, cancellationToken, PriorOf(window) is { } prior ? [prior] : null));
        }
        finally
        {
            if (window.Stateless) generator.Dispose();
        }
    }

    static ChunkPrior? PriorOf(ObservationWindow window) => window.Prior is { } p ? new ChunkPrior(p.Actions, p.Frozen, p.Weights) : null;

    /// <summary>The noise seed of a stateless window: episode · 2^20 + step (wrapping), the same on every server.</summary>
    public static ulong StatelessSeed(long episode, long step) => unchecked(((ulong)episode << 20) + (ulong)step);

    public void Serve(IInferenceFeed feed, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(feed);
        policy.Serve(new Adapter(this, feed), stop);
    }

    static InferenceResult Result(ActionPrediction chunk) => new(chunk.Actions, chunk.Stats.Iterations, chunk.Stats.Evaluations)
    {
        Certificate = chunk.Certificate is { } c ? new ChunkCertificate(c.ConvergedSteps, c.Steps, c.MaxError, c.Tolerance) : null,
    };

    /// <summary>Jobs to prediction requests (with each robot's noise) and predictions back to results.</summary>
    sealed class Adapter(DiffusionChunkPolicy owner, IInferenceFeed feed) : IPredictionFeed
    {
        public IReadOnlyList<PredictionRequest> Take(int running)
        {
            var jobs = feed.Take(running);
            var requests = new List<PredictionRequest>(jobs.Count);
            foreach (var job in jobs)
            {
                var window = job.Window;
                var generator = window.Stateless ? new Generator(StatelessSeed(window.Episode, window.Step)) : owner.NoiseFor(window.Robot, window.Episode);
                requests.Add(new PredictionRequest(PolicyInputs(owner.policy.Config, window), generator)
                {
                    Prior = PriorOf(window),
                    Deadline = job.Deadline,
                    Cancellation = job.Cancellation,
                    Tag = job,
                });
            }
            return requests;
        }

        public void Finished(PredictionOutcome outcome)
        {
            var job = (InferenceJob)outcome.Request.Tag!;
            if (job.Window.Stateless) outcome.Request.Noise?.Dispose();
            feed.Finished(job, outcome.Chunk is { } chunk ? Result(chunk) : null, outcome.Error);
        }
    }

    public void Reset(string robot)
    {
        if (noise.Remove(robot, out var entry))
        {
            entry.Noise.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var robot in noise.Keys.ToList())
        {
            Reset(robot);
        }
    }

    Generator NoiseFor(string robot, long episode)
    {
        if (noise.TryGetValue(robot, out var entry) && entry.Episode == episode)
        {
            return entry.Noise;
        }
        Reset(robot);
        var generator = new Generator(unchecked((ulong)episode));
        noise[robot] = (episode, generator);
        return generator;
    }
}
