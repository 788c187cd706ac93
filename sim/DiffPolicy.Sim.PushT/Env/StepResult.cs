namespace DiffPolicy.Sim.PushT.Env;

/// <summary>
/// What one control step reports: coverage of the goal, reward clip(coverage/0.95, 0, 1), success (coverage &gt; 0.95)
/// and, like the original's <c>n_contacts</c>, the contact points solved per substep (rounded up).
/// </summary>
public readonly record struct StepResult(double Coverage, double Reward, bool Success, int Contacts);
