using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Policy.Training;

/// <summary>
/// DiffusionPolicy's <c>EMAModel</c>: a shadow copy of the parameters updated after every
/// optimiser step with decay 1 − (1 + step/inv_gamma)^−power, clamped to [min, max] (0 for the
/// first <c>update_after_step</c> steps). The shadow network is what gets evaluated and shipped.
/// </summary>
public sealed class EmaModel
{
    readonly nn.Module shadow;
    readonly double power, invGamma, minDecay, maxDecay;
    readonly int updateAfterStep;

    public EmaModel(nn.Module shadow, double power = 0.75, double invGamma = 1.0, double minDecay = 0.0, double maxDecay = 0.9999, int updateAfterStep = 0)
    {
        ArgumentNullException.ThrowIfNull(shadow);
        this.shadow = shadow;
        this.power = power;
        this.invGamma = invGamma;
        this.minDecay = minDecay;
        this.maxDecay = maxDecay;
        this.updateAfterStep = updateAfterStep;
        shadow.eval();
        foreach (var p in shadow.parameters()) p.requires_grad = false;
    }

    /// <summary>The decay applied at optimisation step <paramref name="step"/> (0-based, as the original counts).</summary>
    public double Decay(long step)
    {
        var s = Math.Max(0, step - updateAfterStep - 1);
        if (s <= 0) return 0;
        var value = 1 - Math.Pow(1 + s / invGamma, -power);
        return Math.Clamp(value, minDecay, maxDecay);
    }

    /// <summary>shadow ← decay·shadow + (1 − decay)·model, for every parameter.</summary>
    public void Step(nn.Module model, long step)
    {
        ArgumentNullException.ThrowIfNull(model);
        var decay = Decay(step);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var source = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, target) in shadow.named_parameters())
        {
            if (!source.TryGetValue(name, out var value))
                throw new ArgumentException($"The model has no parameter '{name}' to average.", nameof(model));
            target.mul_(decay).add_(value.detach(), alpha: 1 - decay);
        }
    }
}
