using DiffPolicy.Protocol;

namespace DiffPolicy.Control;

/// <summary>The last n_obs_steps observations of one robot's current episode.</summary>
internal sealed class ObservationHistory(PolicyMetadata metadata)
{
    readonly List<Observation> entries = new(metadata.NObsSteps);

    public long? Episode => entries.Count == 0 ? null : entries[0].Episode;

    public void Clear() => entries.Clear();

    /// <summary>Appends an observation; a different episode starts over. Returns true when a new episode started.</summary>
    public bool Add(Observation observation)
    {
        var newEpisode = Episode != observation.Episode;
        if (newEpisode)
        {
            entries.Clear();
        }
        else if (observation.Step <= entries[^1].Step)
        {
            throw new ProtocolException(
                ErrorCodes.OutOfOrder, $"step {observation.Step} is not after step {entries[^1].Step} of episode {observation.Episode}", observation.Seq);
        }
        if (entries.Count == metadata.NObsSteps)
        {
            entries.RemoveAt(0);
        }
        entries.Add(observation);
        return newEpisode;
    }

    /// <summary>The window ending at the newest observation.</summary>
    public ObservationWindow Window(string robot)
    {
        var n = metadata.NObsSteps;
        var newest = entries[^1];
        var data = new Dictionary<string, float[]>(metadata.ObsKeys.Count);
        var frames = new Dictionary<string, byte[]>();
        foreach (var key in metadata.ObsKeys)
        {
            if (key.IsRgb)
            {
                frames[key.Name] = new byte[n * key.Length];
            }
            else
            {
                data[key.Name] = new float[n * key.Length];
            }
        }
        for (var i = 0; i < n; i++)
        {
            var source = At(newest.Step - (n - 1) + i);
            foreach (var key in metadata.ObsKeys)
            {
                if (key.IsRgb)
                {
                    source.Frames[key.Name].CopyTo(frames[key.Name].AsSpan(i * key.Length));
                }
                else
                {
                    source.Data[key.Name].CopyTo(data[key.Name].AsSpan(i * key.Length));
                }
            }
        }
        return new ObservationWindow(robot, newest.Episode, newest.Step, n, data) { Frames = frames };
    }

    /// <summary>The newest observation at or before <paramref name="step"/>, else the episode's first.</summary>
    Observation At(long step)
    {
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            if (entries[i].Step <= step)
            {
                return entries[i];
            }
        }
        return entries[0];
    }
}
