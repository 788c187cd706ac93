using DiffPolicy.Protocol;

namespace DiffPolicy.Control;

/// <summary>An observation waiting for the inference thread, with the window built when it arrived.</summary>
internal sealed record InferenceRequest(RobotSession Session, int Epoch, Observation Observation, ObservationWindow Window, long ArrivedAt);

/// <summary>A reply computed on the inference thread, to be sent by the socket thread if the session still wants it.</summary>
internal sealed record InferenceReply(RobotSession Session, int Epoch, byte[] Frame, bool IsChunk);
