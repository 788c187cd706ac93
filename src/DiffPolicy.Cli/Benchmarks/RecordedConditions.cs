using DiffPolicy.Data;
using DiffPolicy.Policy;
using DiffPolicy.Policy.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPolicy.Cli.Benchmarks;

/// <summary>
/// global_cond as a policy sees it in deployment: n_obs_steps consecutive observations from one episode of a
/// recorded dataset (demonstrations or robot logs in the training format), normalised by the checkpoint's
/// normaliser and flattened. A trained network converges in a different number of ParaDiGMS iterations on
/// such inputs than on N(0, I) conditioning, which lies partly outside the normalised range [−1, 1].
/// </summary>
internal sealed class RecordedConditions
{
    readonly float[] observations;   // normalised, steps × obs_dim
    readonly int[] windowEnds;       // last step of every window that fits inside its episode
    readonly int obsDim, nObsSteps;

    public RecordedConditions(string path, PolicyConfig config, LinearNormalizer normalizer)
    {
        var data = ReplayBuffer.Load(path);
        observations = data.Column(config.ObsKey, out var width);
        if (width != config.ObsDim)
            throw new InvalidDataException($"'{path}': '{config.ObsKey}' has {width} values per step, the checkpoint expects obs_dim {config.ObsDim}.");
        normalizer.Normalize(observations);
        obsDim = config.ObsDim;
        nObsSteps = config.NObsSteps;
        windowEnds = Enumerable.Range(0, data.Episodes)
            .SelectMany(e => { var (start, end) = data.Episode(e); return Enumerable.Range(start + nObsSteps - 1, Math.Max(0, end - start - nObsSteps + 1)); })
            .ToArray();
        if (windowEnds.Length == 0)
            throw new InvalidDataException($"'{path}' has no episode with {nObsSteps} steps.");
    }

    /// <returns>(batch, n_obs_steps · obs_dim), windows drawn uniformly with <paramref name="generator"/>.</returns>
    public Tensor Draw(long batch, Generator generator)
    {
        var picks = randint(windowEnds.Length, [batch], generator: generator).data<long>().ToArray();
        var rows = new float[batch * nObsSteps * obsDim];
        for (var i = 0; i < picks.Length; i++)
        {
            var first = windowEnds[picks[i]] - nObsSteps + 1;
            observations.AsSpan(first * obsDim, nObsSteps * obsDim).CopyTo(rows.AsSpan(i * nObsSteps * obsDim));
        }
        return tensor(rows, [batch, nObsSteps * obsDim]);
    }
}
