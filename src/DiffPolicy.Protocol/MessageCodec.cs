using System.Buffers;
using DiffPolicy.Protocol.Codec;
using MessagePack;

namespace DiffPolicy.Protocol;

/// <summary>
/// Frames ↔ <see cref="Message"/>s. Decoding treats every frame as untrusted: bounded size, nesting, entry counts and
/// string lengths; strict field types; finite floats. Any refusal is a <see cref="ProtocolException"/>.
/// </summary>
public static class MessageCodec
{
    /// <summary>The protocol version this codec speaks, sent in <c>hello</c> and <c>welcome</c>.</summary>
    public const int ProtocolVersion = 1;

    /// <summary>The longest robot name.</summary>
    public const int MaxRobotName = 64;

    public static Message Decode(ReadOnlyMemory<byte> frame) => Decode(frame, ProtocolLimits.Default);

    public static Message Decode(ReadOnlyMemory<byte> frame, ProtocolLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var fields = FrameFields.Parse(frame, limits);
        try
        {
            return fields.String("type") switch
            {
                MessageTypes.Hello => new Hello(fields.Int32("protocol", 0, int.MaxValue), RobotName(fields, "robot")),
                MessageTypes.Welcome => new Welcome(
                    fields.Int32("protocol", 0, int.MaxValue), RobotName(fields, "robot"), fields.String("server"),
                    ReadMetadata(fields), fields.Double("robot_timeout_s"), fields.Int32("max_frame_bytes", 1, int.MaxValue)),
                MessageTypes.Obs => ReadObservation(fields, limits),
                MessageTypes.Infer => ReadInfer(fields, limits),
                MessageTypes.Actions => ReadActions(fields),
                MessageTypes.Reset => new Reset(),
                MessageTypes.Ping => new Ping(fields.UInt64("seq"), fields.Double("t")),
                MessageTypes.Pong => new Pong(fields.UInt64("seq"), fields.Double("t"), fields.Bool("session", whenAbsent: false)),
                MessageTypes.Error => new ProtocolError(fields.String("code"), fields.String("message"), fields.Has("ref_seq") ? fields.UInt64("ref_seq") : null),
                MessageTypes.Bye => new Bye(),
                var other => throw new ProtocolException(ErrorCodes.UnknownType, $"unknown message type '{other}'", fields.Seq),
            };
        }
        catch (Exception ex) when (ex is not ProtocolException)
        {
            throw new ProtocolException(ErrorCodes.BadMessage, ex.Message, fields.Seq, ex);
        }
    }

    public static byte[] Encode(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var buffer = new ArrayBufferWriter<byte>(256);
        switch (message)
        {
            case Hello m:
                {
                    var w = FrameWriter.Begin(buffer, MessageTypes.Hello, 2);
                    w.Write("protocol");
                    w.Write(m.Protocol);
                    w.Write("robot");
                    w.Write(m.Robot);
                    return w.Finish(buffer);
                }
            case Welcome m:
                {
                    var w = FrameWriter.Begin(buffer, MessageTypes.Welcome, 11);
                    w.Write("protocol");
                    w.Write(m.Protocol);
                    w.Write("robot");
                    w.Write(m.Robot);
                    w.Write("server");
                    w.Write(m.Server);
                    WriteMetadata(ref w, m.Policy);
                    w.Write("robot_timeout_s");
                    w.Write(m.RobotTimeoutSeconds);
                    w.Write("max_frame_bytes");
                    w.Write(m.MaxFrameBytes);
                    return w.Finish(buffer);
                }
            case InferRequest m:
                {
                    var w = FrameWriter.Begin(buffer, MessageTypes.Infer, m.DeadlineMs is null ? 5 : 6);
                    WriteStep(ref w, m.Seq, m.Episode, m.Step, m.Time);
                    WriteDeadline(ref w, m.DeadlineMs);
                    WriteObservationMap(ref w, m.Data, m.Frames);
                    return w.Finish(buffer);
                }
            case Observation m:
                {
                    var w = FrameWriter.Begin(buffer, MessageTypes.Obs, 6 + (m.Prior is null ? 0 : m.Prior.Weights is null ? 2 : 3) + (m.DeadlineMs is null ? 0 : 1));
                    WriteStep(ref w, m.Seq, m.Episode, m.Step, m.Time);
                    w.Write("infer");
                    w.Write(m.Infer);
                    WriteObservationMap(ref w, m.Data, m.Frames);
                    WriteDeadline(ref w, m.DeadlineMs);
                    if (m.Prior is { } prior)
                    {
                        w.Write("prior");
                        w.WriteFloats(prior.Actions);
                        w.Write("prior_frozen");
                        w.Write(prior.Frozen);
                        if (prior.Weights is { } weights)
                        {
                            w.Write("prior_weights");
                            w.WriteFloats(weights);
                        }
                    }
                    return w.Finish(buffer);
                }
            case ActionChunk m:
                {
                    var w = FrameWriter.Begin(buffer, MessageTypes.Actions, m.Certificate is null ? 12 : 16);
                    w.Write("obs_seq");
                    w.Write(m.ObsSeq);
                    w.Write("obs_t");
                    w.Write(m.ObsTime);
                    w.Write("episode");
                    w.Write(m.Episode);
                    w.Write("start_step");
                    w.Write(m.StartStep);
                    w.Write("dt");
                    w.Write(m.Dt);
                    w.Write("n_actions");
                    w.Write(m.Count);
                    w.Write("action_dim");
                    w.Write(m.ActionDim);
                    w.Write("actions");
                    w.WriteFloats(m.Values);
                    w.Write("queue_ms");
                    w.Write(m.Timing.QueueMs);
                    w.Write("infer_ms");
                    w.Write(m.Timing.InferMs);
                    w.Write("iterations");
                    w.Write(m.Timing.Iterations);
                    w.Write("evals");
                    w.Write(m.Timing.Evaluations);
                    if (m.Certificate is { } c)
                    {
                        w.Write("converged_steps");
                        w.Write(c.ConvergedSteps);
                        w.Write("denoising_steps");
                        w.Write(c.Steps);
                        w.Write("max_error");
                        w.Write(c.MaxError);
                        w.Write("tolerance");
                        w.Write(c.Tolerance);
                    }
                    return w.Finish(buffer);
                }
            case Reset:
                {
                    var w = FrameWriter.Begin(buffer, MessageTypes.Reset, 0);
                    return w.Finish(buffer);
                }
            case Ping m:
                {
                    var w = FrameWriter.Begin(buffer, MessageTypes.Ping, 2);
                    w.Write("seq");
                    w.Write(m.Seq);
                    w.Write("t");
                    w.Write(m.Time);
                    return w.Finish(buffer);
                }
            case Pong m:
                {
                    var w = FrameWriter.Begin(buffer, MessageTypes.Pong, 3);
                    w.Write("seq");
                    w.Write(m.Seq);
                    w.Write("t");
                    w.Write(m.Time);
                    w.Write("session");
                    w.Write(m.Session);
                    return w.Finish(buffer);
                }
            case ProtocolError m:
                {
                    var w = FrameWriter.Begin(buffer, MessageTypes.Error, m.Seq is null ? 2 : 3);
                    w.Write("code");
                    w.Write(m.Code);
                    w.Write("message");
                    w.Write(FitText(m.Text, ProtocolLimits.Default.MaxStringBytes));
                    if (m.Seq is { } seq)
                    {
                        w.Write("ref_seq");
                        w.Write(seq);
                    }
                    return w.Finish(buffer);
                }
            case Bye:
                {
                    var w = FrameWriter.Begin(buffer, MessageTypes.Bye, 0);
                    return w.Finish(buffer);
                }
            default:
                throw new ArgumentException($"no encoding for {message.GetType().Name}", nameof(message));
        }
    }

    /// <summary>A robot name: 1–64 characters from [A-Za-z0-9_.-].</summary>
    public static bool IsValidRobotName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxRobotName)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                return false;
            }
        }
        return true;
    }

    static string RobotName(FrameFields fields, string name)
    {
        var value = fields.String(name);
        return IsValidRobotName(value)
            ? value
            : throw new ProtocolException(ErrorCodes.BadMessage, $"'{name}' must be 1–{MaxRobotName} characters from [A-Za-z0-9_.-]", fields.Seq);
    }

    /// <summary>The optional plan prior of an <c>obs</c>: <c>prior_frozen</c> and <c>prior_weights</c> only with <c>prior</c>.</summary>
    static PlanPrior? ReadPrior(FrameFields fields)
    {
        if (!fields.Has("prior"))
        {
            return fields.Has("prior_frozen") || fields.Has("prior_weights")
                ? throw new ProtocolException(ErrorCodes.BadMessage, "'prior_frozen' and 'prior_weights' need 'prior'", fields.Seq)
                : null;
        }
        return new PlanPrior(fields.Floats("prior"), fields.Has("prior_frozen") ? fields.Int32("prior_frozen", 0, 4096) : 0,
            fields.Has("prior_weights") ? fields.Floats("prior_weights") : null);
    }

    /// <summary>The largest <c>deadline_ms</c> accepted: ten minutes.</summary>
    public const double MaxDeadlineMs = 600_000;

    static double? DeadlineMs(FrameFields fields)
    {
        if (!fields.Has("deadline_ms"))
        {
            return null;
        }
        var value = fields.Double("deadline_ms");
        return value > 0 && value <= MaxDeadlineMs
            ? value
            : throw new ProtocolException(ErrorCodes.BadMessage, $"field 'deadline_ms' = {value} is outside (0, {MaxDeadlineMs}]", fields.Seq);
    }

    /// <summary>The <c>obs</c> map: float32 bins of the low-dim keys, then the u8 bins of the camera frames.</summary>
    static void WriteObservationMap(ref MessagePackWriter w, IReadOnlyDictionary<string, float[]> data, IReadOnlyDictionary<string, byte[]> frames)
    {
        w.Write("obs");
        w.WriteMapHeader(data.Count + frames.Count);
        foreach (var (key, values) in data)
        {
            w.Write(key);
            w.WriteFloats(values);
        }
        foreach (var (key, frame) in frames)
        {
            w.Write(key);
            w.Write(frame.AsSpan());
        }
    }

    /// <summary>seq, episode, step and t: the head of every observation (<c>obs</c> and <c>infer</c>).</summary>
    static void WriteStep(ref MessagePackWriter w, ulong seq, long episode, long step, double time)
    {
        w.Write("seq");
        w.Write(seq);
        w.Write("episode");
        w.Write(episode);
        w.Write("step");
        w.Write(step);
        w.Write("t");
        w.Write(time);
    }

    static void WriteDeadline(ref MessagePackWriter w, double? deadlineMs)
    {
        if (deadlineMs is { } value)
        {
            w.Write("deadline_ms");
            w.Write(value);
        }
    }

    static ChunkCertificate? ReadCertificate(FrameFields fields) =>
        fields.Has("converged_steps")
            ? new ChunkCertificate(
                fields.Int32("converged_steps", 0, int.MaxValue), fields.Int32("denoising_steps", 0, int.MaxValue), fields.Double("max_error"), fields.Double("tolerance"))
            : null;

    static ActionChunk ReadActions(FrameFields fields)
    {
        var count = fields.Int32("n_actions", 1, 4096);
        var dim = fields.Int32("action_dim", 1, 4096);
        var values = fields.Floats("actions");
        if (values.Length != count * dim)
        {
            throw new ProtocolException(ErrorCodes.BadShape, $"'actions' has {values.Length} values, not n_actions × action_dim = {count * dim}", fields.Seq);
        }
        return new ActionChunk(
            fields.UInt64("obs_seq"), fields.Double("obs_t"), fields.Int64("episode", 0, long.MaxValue), fields.Int64("start_step", 0, long.MaxValue),
            fields.Double("dt"), count, dim, values,
            new ServerTiming(fields.Double("queue_ms"), fields.Double("infer_ms"), fields.Int32("iterations", 0, int.MaxValue), fields.Int32("evals", 0, int.MaxValue)))
        { Certificate = ReadCertificate(fields) };
    }

    static InferRequest ReadInfer(FrameFields fields, ProtocolLimits limits)
    {
        var (data, frames) = fields.ObservationMap("obs", limits.RgbKeys);
        return new InferRequest(
            fields.UInt64("seq"), fields.Int64("episode", 0, long.MaxValue), fields.Int64("step", 0, long.MaxValue), fields.Double("t"), data)
        { Frames = frames, DeadlineMs = DeadlineMs(fields) };
    }

    static Observation ReadObservation(FrameFields fields, ProtocolLimits limits)
    {
        var (data, frames) = fields.ObservationMap("obs", limits.RgbKeys);
        return new Observation(
            fields.UInt64("seq"), fields.Int64("episode", 0, long.MaxValue), fields.Int64("step", 0, long.MaxValue),
            fields.Double("t"), fields.Bool("infer", whenAbsent: true), data, ReadPrior(fields))
        { Frames = frames, DeadlineMs = DeadlineMs(fields) };
    }

    static ObsKey ReadObsKey(FrameFields key)
    {
        var type = key.Has("type") ? key.String("type") : ObsKey.LowDim;
        return type is ObsKey.LowDim or ObsKey.Rgb
            ? new ObsKey(key.String("name"), key.Ints("shape", 1, 1 << 24), type)
            : throw new ProtocolException(ErrorCodes.BadMessage, $"obs key type '{type}' is neither {ObsKey.LowDim} nor {ObsKey.Rgb}");
    }

    static PolicyMetadata ReadMetadata(FrameFields fields) => new(
        fields.MapList("obs_keys", ReadObsKey),
        fields.Int32("n_obs_steps", 1, 1024), fields.Int32("horizon", 1, 1 << 16), fields.Int32("n_action_steps", 1, 1 << 16),
        fields.Int32("action_dim", 1, 4096), fields.Double("control_hz"));

    static void WriteMetadata(ref MessagePackWriter writer, PolicyMetadata policy)
    {
        writer.Write("obs_keys");
        writer.WriteArrayHeader(policy.ObsKeys.Count);
        foreach (var key in policy.ObsKeys)
        {
            writer.WriteMapHeader(3);
            writer.Write("name");
            writer.Write(key.Name);
            writer.Write("shape");
            writer.WriteArrayHeader(key.Shape.Count);
            foreach (var d in key.Shape)
            {
                writer.Write(d);
            }
            writer.Write("type");
            writer.Write(key.Type);
        }
        writer.Write("n_obs_steps");
        writer.Write(policy.NObsSteps);
        writer.Write("horizon");
        writer.Write(policy.Horizon);
        writer.Write("n_action_steps");
        writer.Write(policy.NActionSteps);
        writer.Write("action_dim");
        writer.Write(policy.ActionDim);
        writer.Write("control_hz");
        writer.Write(policy.ControlHz);
    }

    /// <summary>
    /// An error's text cut to what every reader accepts (<see cref="ProtocolLimits.MaxStringBytes"/> of UTF-8, ending in
    /// "…"): an exception's message can be longer (libtorch's carry a C++ trace), and a robot must not lose the refusal
    /// to a frame it cannot decode.
    /// </summary>
    internal static string FitText(string text, int maxBytes)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(text) <= maxBytes) return text;
        const string ellipsis = "…";
        var budget = maxBytes - System.Text.Encoding.UTF8.GetByteCount(ellipsis);
        var length = 0;
        var bytes = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > budget) break;
            bytes += rune.Utf8SequenceLength;
            length += rune.Utf16SequenceLength;
        }
        return text[..length] + ellipsis;
    }
}
