namespace DiffPolicy.Protocol;

/// <summary>What a policy consumes and produces, sent in <see cref="Welcome"/>.</summary>
/// <param name="ObsKeys">Observation arrays the robot must send in every <see cref="Observation"/>.</param>
/// <param name="NObsSteps">Observations per window (the current one and the ones before it).</param>
/// <param name="Horizon">Predicted trajectory length; a chunk carries its <see cref="PredictedSteps"/> actions from the observation's step on.</param>
/// <param name="NActionSteps">Actions executed per chunk (the action horizon).</param>
/// <param name="ControlHz">Control rate the policy was trained at; dt = 1 / ControlHz.</param>
public sealed record PolicyMetadata(
    IReadOnlyList<ObsKey> ObsKeys, int NObsSteps, int Horizon, int NActionSteps, int ActionDim, double ControlHz)
{
    public double Dt => 1.0 / ControlHz;

    /// <summary>Actions per chunk, horizon − n_obs_steps + 1: n_action_steps to execute, then the rest of the prediction.</summary>
    public int PredictedSteps => Horizon - NObsSteps + 1;

    public ObsKey? Find(string name)
    {
        foreach (var key in ObsKeys)
        {
            if (key.Name == name)
            {
                return key;
            }
        }
        return null;
    }
}

/// <summary>One observation array: its name and shape (without the time axis).</summary>
public sealed record ObsKey(string Name, IReadOnlyList<int> Shape)
{
    public int Length
    {
        get
        {
            var n = 1;
            foreach (var d in Shape)
            {
                n *= d;
            }
            return n;
        }
    }
}
