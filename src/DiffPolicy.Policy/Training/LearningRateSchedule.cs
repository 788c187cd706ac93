namespace DiffPolicy.Policy.Training;

/// <summary>
/// The "cosine" schedule of diffusers' <c>get_scheduler</c> as DiffusionPolicy uses it: linear
/// warm-up from 0 over <c>warmup</c> steps, then half a cosine from the base rate down to 0 at
/// <c>total</c> steps.
/// </summary>
public static class LearningRateSchedule
{
    public static double CosineWithWarmup(double baseRate, int step, int warmup, int total)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        ArgumentOutOfRangeException.ThrowIfLessThan(total, 1);
        if (step < warmup) return baseRate * step / Math.Max(1, warmup);
        var progress = (double)(step - warmup) / Math.Max(1, total - warmup);
        return baseRate * Math.Max(0, 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
