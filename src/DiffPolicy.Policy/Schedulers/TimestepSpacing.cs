namespace DiffPolicy.Policy.Schedulers;

/// <summary>Inference timesteps, descending, as diffusers' <c>set_timesteps</c> spaces them.</summary>
public static class TimestepSpacing
{
    /// <summary>"leading" (DDPM, DDIM): t_j = (S−1−j)·⌊N/S⌋.</summary>
    public static int[] Leading(int trainTimesteps, int steps)
    {
        Check(trainTimesteps, steps);
        var ratio = trainTimesteps / steps;
        return Enumerable.Range(0, steps).Select(j => (steps - 1 - j) * ratio).ToArray();
    }

    /// <summary>
    /// "linspace" (DPMSolverMultistepScheduler): round-half-even of linspace(0, N−1, S+1), reversed,
    /// without the final 0. Rejects step counts whose rounding repeats a timestep (e.g. S = N), where the
    /// multistep solver would divide by a zero log-SNR step.
    /// </summary>
    public static int[] Linspace(int trainTimesteps, int steps)
    {
        Check(trainTimesteps, steps);
        var delta = (trainTimesteps - 1.0) / steps;
        var grid = Enumerable.Range(0, steps + 1).Select(i => i == steps ? trainTimesteps - 1.0 : i * delta);
        var timesteps = grid.Select(v => (int)Math.Round(v, MidpointRounding.ToEven)).Reverse().Take(steps).ToArray();
        if (timesteps.Distinct().Count() != steps)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps,
                $"linspace spacing of {steps} steps over {trainTimesteps} train timesteps repeats a timestep; use fewer steps.");
        }

        return timesteps;
    }

    static void Check(int trainTimesteps, int steps)
    {
        if (steps < 1 || steps > trainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"inference steps must lie in [1, {trainTimesteps}].");
    }
}
