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

    /// <summary>
    /// The real-time recipe's lead (docs/protocol.md §4): a robot asks for a chunk when this many planned actions
    /// remain, the actions beyond n_action_steps (half of n_action_steps when a chunk has none), so a chunk is due
    /// Lead · dt after it was asked for: then the robot runs out of actions.
    /// </summary>
    public int RealTimeLead => PredictedSteps > NActionSteps ? PredictedSteps - NActionSteps : Math.Max(1, NActionSteps / 2);

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

/// <summary>One observation array: its name, its shape as sent (without the time axis) and its type.</summary>
/// <param name="Type"><see cref="LowDim"/>: float32 values. <see cref="Rgb"/>: a camera frame, u8, shape [height, width, 3].</param>
public sealed record ObsKey(string Name, IReadOnlyList<int> Shape, string Type = ObsKey.LowDim)
{
    public const string LowDim = "low_dim";
    public const string Rgb = "rgb";

    public bool IsRgb => Type == Rgb;

    /// <summary>The shape as the wire lists it, for messages: [96, 96, 3].</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>Bytes of this key in one <c>obs</c> frame: one per value for a camera frame, four for float32.</summary>
    public int WireBytes => IsRgb ? Length : 4 * Length;

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
