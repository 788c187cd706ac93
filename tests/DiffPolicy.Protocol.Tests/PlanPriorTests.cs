namespace DiffPolicy.Protocol.Tests;

/// <summary>The optional plan prior of an <c>obs</c> (docs/protocol.md §4.1): compatible both ways.</summary>
public class PlanPriorTests
{
    static readonly Dictionary<string, float[]> Data = new() { ["agent_pos"] = [1.5f, -2f] };

    [Fact]
    public void A_prior_survives_a_round_trip_with_and_without_weights()
    {
        var plain = Assert.IsType<Observation>(MessageCodec.Decode(MessageCodec.Encode(new Observation(5, 2, 40, 12.5, true, Data, new PlanPrior([1, 2, 3, 4, 5, 6], 2)))));
        Assert.Equal([1f, 2, 3, 4, 5, 6], plain.Prior!.Actions);
        Assert.Equal(2, plain.Prior.Frozen);
        Assert.Null(plain.Prior.Weights);

        var weighted = Assert.IsType<Observation>(MessageCodec.Decode(MessageCodec.Encode(new Observation(5, 2, 40, 12.5, true, Data, new PlanPrior([1, 2, 3, 4], 1, [1, 0.25f])))));
        Assert.Equal([1f, 0.25f], weighted.Prior!.Weights!);
    }

    [Fact]
    public void An_obs_without_a_prior_is_encoded_as_before()
    {
        // The frame a robot of the first protocol version writes: exactly the six fields, no prior keys.
        var frame = MessageCodec.Encode(new Observation(9, 0, 3, 1.0, true, Data));
        var map = MessagePack.MessagePackSerializer.Deserialize<Dictionary<string, object?>>(frame);
        Assert.Equal(["episode", "infer", "obs", "seq", "step", "t", "type"], map.Keys.Order());
        Assert.Null(Assert.IsType<Observation>(MessageCodec.Decode(frame)).Prior);
    }

    [Fact]
    public void A_prior_from_a_plain_dictionary_decodes_and_its_companions_need_it()
    {
        var map = Frames.Obs(seq: 4);
        map["prior"] = Frames.Floats(1, 2, 3, 4);
        map["prior_frozen"] = 1;
        var obs = Assert.IsType<Observation>(MessageCodec.Decode(Frames.Of(map)));
        Assert.Equal(1, obs.Prior!.Frozen);

        var orphan = Frames.Obs(seq: 4);
        orphan["prior_frozen"] = 1;
        var error = Assert.Throws<ProtocolException>(() => MessageCodec.Decode(Frames.Of(orphan)));
        Assert.Equal(ErrorCodes.BadMessage, error.Code);
        Assert.Contains("prior", error.Message);

        var nonFinite = Frames.Obs(seq: 4);
        nonFinite["prior"] = Frames.Floats(1, float.NaN);
        Assert.Equal(ErrorCodes.NonFinite, Assert.Throws<ProtocolException>(() => MessageCodec.Decode(Frames.Of(nonFinite))).Code);
    }
}
