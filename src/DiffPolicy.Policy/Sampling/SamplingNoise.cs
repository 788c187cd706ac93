using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Sampling;

/// <summary>
/// All randomness of one chunk, drawn once up front so sequential sampling and ParaDiGMS see the
/// same noise: x_T, then z_0 … z_{S−1} for the stochastic steps (absent for deterministic solvers).
/// </summary>
public sealed class SamplingNoise : IDisposable
{
    /// <summary>x_T, (B, horizon, action_dim).</summary>
    public Tensor Initial { get; }

    /// <summary>Unit Gaussian z_j, (S, B, horizon, action_dim), or null when no step adds noise.</summary>
    public Tensor? Steps { get; }

    public SamplingNoise(Tensor initial, Tensor? steps)
    {
        ArgumentNullException.ThrowIfNull(initial);
        if (initial.dim() != 3) throw new ArgumentException("x_T must be (B, horizon, action_dim).", nameof(initial));
        if (steps is not null && (steps.dim() != 4 || !steps.shape.Skip(1).SequenceEqual(initial.shape)))
            throw new ArgumentException("Step noise must be (S, B, horizon, action_dim).", nameof(steps));
        Initial = initial.DetachFromDisposeScope();
        Steps = steps?.DetachFromDisposeScope();
    }

    /// <summary>Draws x_T and, when <paramref name="stochastic"/>, the step noise, from <paramref name="generator"/> (or the global one).</summary>
    public static SamplingNoise Draw(long batch, long horizon, long actionDim, int steps, bool stochastic, Generator? generator = null, Device? device = null)
    {
        var initial = randn([batch, horizon, actionDim], float32, device, generator: generator);
        var stepNoise = stochastic ? randn([steps, batch, horizon, actionDim], float32, device, generator: generator) : null;
        return new SamplingNoise(initial, stepNoise);
    }

    public void Dispose()
    {
        Initial.Dispose();
        Steps?.Dispose();
    }
}
