namespace DiffPolicy.Sim.PushT.Task;

/// <summary>What one control step reports: coverage of the goal, reward clip(coverage/0.95, 0, 1), success and contacts.</summary>
public readonly record struct StepResult(double Coverage, double Reward, bool Success, int Contacts, bool AgentTouchedBlock);
