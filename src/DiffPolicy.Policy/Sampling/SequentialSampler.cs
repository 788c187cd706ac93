using static TorchSharp.torch;

namespace DiffPolicy.Policy.Sampling;

/// <summary>The reverse process one step at a time: S network calls, every sample of the batch in each.</summary>
internal static class SequentialSampler
{
    public static Tensor Run(DenoisingProblem problem, NoiseNetwork network, CancellationToken cancellationToken, out int iterations, out int evaluations)
    {
        var scheduler = problem.Scheduler;
        var steps = scheduler.Steps;
        var x = problem.Noise.Initial.clone();
        problem.Constrain(x, 0);
        var previousPrediction = zeros_like(x).unsqueeze(0);
        for (var j = 0; j < steps; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var modelOutput = network.Evaluate(x, problem.Rows(j, 1)).unsqueeze(0);
            var arithmetic = System.Diagnostics.Stopwatch.GetTimestamp();
            var sample = x.unsqueeze(0);
            var prediction = scheduler.Predict(modelOutput, sample, problem.StepIndices[j..(j + 1)]);
            x.copy_(problem.Step(modelOutput, sample, prediction, previousPrediction, j)[0]);
            previousPrediction.copy_(prediction);
            network.Profile?.Lap(SamplerPhase.Arithmetic, arithmetic);
        }
        iterations = evaluations = steps;
        return x;
    }
}
