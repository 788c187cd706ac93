using DiffPolicy.Data;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Import;

/// <summary>Max abs errors of a policy against the original code's outputs (see tests/fixtures/dp/README.md).</summary>
/// <param name="GlobalCond">global_cond from the golden raw observations (normaliser, and for image policies the encoder).</param>
/// <param name="Eps">The U-Net's noise prediction on the golden (sample, timestep, global_cond).</param>
/// <param name="Action">The action unnormaliser on the golden naction.</param>
public sealed record GoldenErrors(double GlobalCond, double Eps, double Action)
{
    public bool Within(double tolerance) => GlobalCond <= tolerance && Eps <= tolerance && Action <= tolerance;
}

/// <summary>
/// Runs a policy on a golden <c>.npz</c> written by the dp_golden tool: <c>obs</c> (low-dim) or <c>obs.&lt;key&gt;</c>
/// (image) raw observations (B, To, …), <c>global_cond</c>, <c>sample</c>, <c>timestep</c>, <c>eps</c>,
/// <c>naction</c>, <c>action</c>.
/// </summary>
public static class GoldenCheck
{
    public static GoldenErrors Run(DiffusionPolicy policy, string goldenPath)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var arrays = Npz.Load(goldenPath);
        NpyArray Array(string key) => arrays.TryGetValue(key, out var a) ? a : throw new InvalidDataException($"'{goldenPath}' has no array '{key}'.");
        var config = policy.Config;

        var globalCond = Array("global_cond");
        if (globalCond.Shape.Count != 2 || globalCond.Shape[1] != config.NObsSteps * config.ObsDim)
            throw new InvalidDataException($"'{goldenPath}': global_cond has shape {Shapes.Format(globalCond.Shape)}, the policy makes (B, {config.NObsSteps * config.ObsDim}).");
        var batch = globalCond.Shape[0];
        var observations = new Dictionary<string, float[]>();
        foreach (var input in config.Inputs)
        {
            var raw = config.Observations is null ? Array("obs") : Array($"obs.{input.Key}");
            if (raw.Shape.Count < 2 || raw.Shape[0] != batch)
                throw new InvalidDataException($"'{goldenPath}': the observations of '{input.Key}' have shape {Shapes.Format(raw.Shape)}, expected ({batch}, To, …).");
            // The original conditions on the first n_obs_steps of what it is given.
            int steps = raw.Shape[1], row = raw.Length / (batch * steps);
            if (steps < config.NObsSteps || row != input.Length)
                throw new InvalidDataException($"'{goldenPath}': '{input.Key}' has {steps} steps of {row} values; the policy needs {config.NObsSteps} of {input.Length}.");
            var values = raw.ToFloat32();
            var first = new float[batch * config.NObsSteps * row];
            for (var b = 0; b < batch; b++)
                values.AsSpan(b * steps * row, config.NObsSteps * row).CopyTo(first.AsSpan(b * config.NObsSteps * row));
            observations[input.Key] = first;
        }

        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        var reference = tensor(globalCond.ToFloat32(), [batch, globalCond.Shape[1]]);
        double condError = (policy.GlobalCond(observations, batch).cpu() - reference).abs().max().item<float>();

        var sample = Array("sample");
        var eps = Array("eps");
        var predicted = policy.PredictNoise(
            tensor(sample.ToFloat32(), sample.Shape.Select(d => (long)d).ToArray()),
            tensor(Array("timestep").ToInt64()),
            reference);
        if (!predicted.shape.SequenceEqual(eps.Shape.Select(d => (long)d)))
            throw new InvalidDataException($"'{goldenPath}': eps has shape {Shapes.Format(eps.Shape)}, the network makes {Shapes.Format(predicted.shape)}.");
        double epsError = (predicted.cpu() - tensor(eps.ToFloat32(), predicted.shape)).abs().max().item<float>();

        var naction = Array("naction").ToFloat32();
        var action = Array("action").ToFloat32();
        if (naction.Length != action.Length) throw new InvalidDataException($"'{goldenPath}': naction and action differ in size.");
        policy.UnnormalizeActions(naction);
        var actionError = naction.Zip(action, (a, b) => Math.Abs((double)a - b)).DefaultIfEmpty(0).Max();
        return new GoldenErrors(condError, epsError, actionError);
    }
}
