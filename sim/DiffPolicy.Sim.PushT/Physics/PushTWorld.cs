namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>
/// The PushT scene as Chipmunk 7 simulates it: a kinematic circle (the agent), the dynamic T block made of two
/// rectangles, and four static wall segments of radius 2; no gravity, space damping 0, frictionless inelastic
/// contacts. <see cref="Step"/> follows cpSpaceStep's order (integrate positions, collide, pre-step, damp,
/// warm start, iterate) with split-impulse penetration correction; shape pairs are collided and solved in the
/// order Chipmunk's broad phase meets them (<see cref="BroadPhase"/>). Allocation-free after construction.
/// </summary>
internal sealed class PushTWorld
{
    public const double AgentRadius = 15.0;
    public const double WallRadius = 2.0;
    public const int SolverIterations = 10;
    public const double CollisionSlop = 0.1;
    public const int CollisionPersistence = 3;
    static readonly double CollisionBias = Math.Pow(1.0 - 0.1, 60.0);

    static readonly Wall[] Walls =
    [
        new(new Vec2(5, 506), new Vec2(5, 5), WallRadius),
        new(new Vec2(5, 5), new Vec2(506, 5), WallRadius),
        new(new Vec2(506, 5), new Vec2(506, 506), WallRadius),
        new(new Vec2(5, 506), new Vec2(506, 506), WallRadius),
    ];

    static readonly Vec2[] BarNormals = Quad.EdgeNormals(TeeShape.BarHull);
    static readonly Vec2[] StemNormals = Quad.EdgeNormals(TeeShape.StemHull);

    // Arbiter slots of the shape pairs that can touch: agent–bar, agent–stem, then bar–wall i and stem–wall i.
    // Shape B of every pair is a block rectangle, so the block is always body B.
    const int AgentBar = 0;
    const int AgentStem = 1;
    const int FirstWallPair = 2;
    public const int PairCount = 2 + 2 * 4;

    readonly Arbiter[] arbiters = new Arbiter[PairCount];
    readonly int[] active = new int[PairCount];
    readonly BroadPhase broadPhase;
    int activeCount;
    long stamp;
    double currentDt;
    Quad bar;
    Quad stem;

    public Vec2 AgentPosition;
    public Vec2 AgentVelocity;
    public BlockBody Block;

    /// <summary>A fresh scene: agent and block placed, nothing moving, no contact history.</summary>
    public PushTWorld(Vec2 agentPosition, Vec2 blockCenterOfGravity, double blockAngle)
    {
        broadPhase = new BroadPhase(SetUpBoxes());
        AgentPosition = agentPosition;
        Block.Position = blockCenterOfGravity;
        Block.SetAngle(blockAngle);
    }

    /// <summary>
    /// The shapes' boxes when the original creates them (agent at (256, 400), T origin at (256, 300), angle 0),
    /// before the reset moves the bodies: Chipmunk's broad phase starts from these.
    /// </summary>
    static Box[] SetUpBoxes()
    {
        var boxes = new Box[BroadPhase.ShapeCount];
        for (var w = 0; w < Walls.Length; w++)
        {
            boxes[w] = Walls[w].Bounds;
        }
        var agent = new Vec2(256, 400);
        boxes[BroadPhase.Agent] = new Box(agent.X - AgentRadius, agent.Y - AgentRadius, agent.X + AgentRadius, agent.Y + AgentRadius);
        var pose = Pose.FromOriginAndAngle(new Vec2(256, 300), 0.0);
        boxes[BroadPhase.Bar] = Quad.FromLocal(TeeShape.BarHull, BarNormals, pose).Bounds;
        boxes[BroadPhase.Stem] = Quad.FromLocal(TeeShape.StemHull, StemNormals, pose).Bounds;
        return boxes;
    }

    PushTWorld(PushTWorld other)
    {
        arbiters = (Arbiter[])other.arbiters.Clone();
        broadPhase = other.broadPhase.Clone();
        active = (int[])other.active.Clone();
        activeCount = other.activeCount;
        stamp = other.stamp;
        currentDt = other.currentDt;
        bar = other.bar;
        stem = other.stem;
        AgentPosition = other.AgentPosition;
        AgentVelocity = other.AgentVelocity;
        Block = other.Block;
    }

    /// <summary>An independent copy, contact history included: stepping both gives identical results.</summary>
    public PushTWorld Clone() => new(this);

    /// <summary>Contact points in the last substep's solver (agent–block and block–wall).</summary>
    public int ActiveContacts
    {
        get
        {
            var n = 0;
            for (var i = 0; i < activeCount; i++)
            {
                n += arbiters[active[i]].Count;
            }
            return n;
        }
    }

    /// <summary>
    /// The shape pairs the last substep's solver iterated over, in its order: "AB"/"AS" (agent–bar/stem),
    /// "WiB"/"WiS" (wall i–bar/stem), as tests/oracles/pusht_chipmunk.c names them.
    /// </summary>
    internal IEnumerable<string> SolverOrder()
    {
        for (var i = 0; i < activeCount; i++)
        {
            var pair = active[i];
            yield return pair switch
            {
                AgentBar => "AB",
                AgentStem => "AS",
                _ => $"W{(pair - FirstWallPair) % 4}{(pair - FirstWallPair < 4 ? "B" : "S")}",
            };
        }
    }

    public void Step(double dt)
    {
        stamp++;
        var previousDt = currentDt;
        currentDt = dt;
        for (var i = 0; i < activeCount; i++)
        {
            arbiters[active[i]].State = ArbiterState.Normal;
        }
        activeCount = 0;

        IntegratePositions(dt);
        UpdateShapes();
        FindContacts();
        ForgetStaleArbiters();
        PreStep(dt);

        // Space damping 0: the block keeps no velocity from the previous substep (the kinematic agent is not damped).
        Block.Velocity = Vec2.Zero;
        Block.AngularVelocity = 0.0;

        WarmStart(previousDt == 0.0 ? 0.0 : dt / previousDt);
        for (var iteration = 0; iteration < SolverIterations; iteration++)
        {
            for (var i = 0; i < activeCount; i++)
            {
                ApplyImpulses(ref arbiters[active[i]], BodyAVelocity(active[i]));
            }
        }
    }

    void IntegratePositions(double dt)
    {
        AgentPosition += AgentVelocity * dt;
        Block.Position += (Block.Velocity + Block.BiasVelocity) * dt;
        Block.SetAngle(Block.Angle + (Block.AngularVelocity + Block.BiasAngularVelocity) * dt);
        Block.BiasVelocity = Vec2.Zero;
        Block.BiasAngularVelocity = 0.0;
    }

    void UpdateShapes()
    {
        var pose = Block.Pose;
        bar = Quad.FromLocal(TeeShape.BarHull, BarNormals, pose);
        stem = Quad.FromLocal(TeeShape.StemHull, StemNormals, pose);
    }

    void FindContacts()
    {
        var a = AgentPosition;
        var r = AgentRadius;
        var agentBox = new Box(a.X - r, a.Y - r, a.X + r, a.Y + r);
        broadPhase.Query(agentBox, AgentVelocity, bar.Bounds, stem.Bounds, Block.Velocity);
        for (var i = 0; i < broadPhase.CandidateCount; i++)
        {
            var (first, second) = broadPhase.Candidate(i);
            // Only pairs of one block rectangle and another body touch: bar and stem share the body, and the
            // kinematic agent against a static wall is two infinite masses (Chipmunk collides them, then drops them).
            var (other, rectangle) = second is BroadPhase.Bar or BroadPhase.Stem ? (first, second) : (second, first);
            if (rectangle is not (BroadPhase.Bar or BroadPhase.Stem) || other is BroadPhase.Bar or BroadPhase.Stem)
            {
                continue;
            }
            ref readonly var quad = ref rectangle == BroadPhase.Bar ? ref bar : ref stem;
            var isStem = rectangle == BroadPhase.Stem;
            var m = default(Manifold);
            if (other == BroadPhase.Agent)
            {
                if (quad.Bounds.Intersects(agentBox))
                {
                    Collision.CircleToQuad(a, r, quad, ref m);
                    Touch(isStem ? AgentStem : AgentBar, m, a);
                }
            }
            else
            {
                ref readonly var wall = ref Walls[other];
                if (quad.Bounds.Intersects(wall.Bounds))
                {
                    Collision.WallToQuad(wall, quad, ref m);
                    Touch(FirstWallPair + (isStem ? 4 : 0) + other, m, Vec2.Zero);
                }
            }
        }
    }

    /// <summary>Records a touching pair: matches its contacts to the previous ones to inherit their impulses.</summary>
    void Touch(int pair, in Manifold manifold, Vec2 bodyAPosition)
    {
        if (manifold.Count == 0)
        {
            return;
        }
        ref var arbiter = ref arbiters[pair];
        if (!arbiter.Exists)
        {
            arbiter = new Arbiter { Exists = true, State = ArbiterState.FirstCollision };
        }
        var contacts = default(ContactPair);
        for (var i = 0; i < manifold.Count; i++)
        {
            var point = i == 0 ? manifold.First : manifold.Second;
            ref var contact = ref contacts[i];
            contact.R1 = point.PointA - bodyAPosition;
            contact.R2 = point.PointB - Block.Position;
            contact.Feature = point.Feature;
            for (var j = 0; j < arbiter.Count; j++)
            {
                if (arbiter.Contacts[j].Feature == point.Feature)
                {
                    contact.NormalImpulse = arbiter.Contacts[j].NormalImpulse;
                }
            }
        }
        arbiter.Contacts = contacts;
        arbiter.Count = manifold.Count;
        arbiter.Normal = manifold.Normal;
        if (arbiter.State == ArbiterState.Cached)
        {
            arbiter.State = ArbiterState.FirstCollision;
        }
        arbiter.Stamp = stamp;
        active[activeCount++] = pair;
    }

    void ForgetStaleArbiters()
    {
        for (var i = 0; i < PairCount; i++)
        {
            ref var arbiter = ref arbiters[i];
            if (!arbiter.Exists)
            {
                continue;
            }
            var ticks = stamp - arbiter.Stamp;
            if (ticks >= 1)
            {
                arbiter.State = ArbiterState.Cached;
            }
            if (ticks >= CollisionPersistence)
            {
                arbiter = default;
            }
        }
    }

    void PreStep(double dt)
    {
        var biasCoefficient = 1.0 - Math.Pow(CollisionBias, dt);
        for (var i = 0; i < activeCount; i++)
        {
            ref var arbiter = ref arbiters[active[i]];
            var n = arbiter.Normal;
            var bodyDelta = Block.Position - BodyAPosition(active[i]);
            for (var c = 0; c < arbiter.Count; c++)
            {
                ref var contact = ref arbiter.Contacts[c];
                var rcn = contact.R2.Cross(n);
                contact.NormalMass = 1.0 / (BlockBody.InverseMass + BlockBody.InverseMoment * rcn * rcn);
                var separation = (contact.R2 - contact.R1 + bodyDelta).Dot(n);
                contact.Bias = -biasCoefficient * Math.Min(0.0, separation + CollisionSlop) / dt;
                contact.BiasImpulse = 0.0;
            }
        }
    }

    void WarmStart(double dtRatio)
    {
        for (var i = 0; i < activeCount; i++)
        {
            ref var arbiter = ref arbiters[active[i]];
            if (arbiter.State == ArbiterState.FirstCollision)
            {
                continue;
            }
            for (var c = 0; c < arbiter.Count; c++)
            {
                ref var contact = ref arbiter.Contacts[c];
                Block.ApplyImpulse(arbiter.Normal * contact.NormalImpulse * dtRatio, contact.R2);
            }
        }
    }

    void ApplyImpulses(ref Arbiter arbiter, Vec2 bodyAVelocity)
    {
        var n = arbiter.Normal;
        for (var c = 0; c < arbiter.Count; c++)
        {
            ref var contact = ref arbiter.Contacts[c];
            var r2 = contact.R2;
            var biasVelocity = Block.BiasVelocity + r2.Perp * Block.BiasAngularVelocity;
            var relativeVelocity = Block.Velocity + r2.Perp * Block.AngularVelocity - bodyAVelocity;

            var biasImpulse = (contact.Bias - biasVelocity.Dot(n)) * contact.NormalMass;
            var oldBiasImpulse = contact.BiasImpulse;
            contact.BiasImpulse = Math.Max(oldBiasImpulse + biasImpulse, 0.0);

            var impulse = -relativeVelocity.Dot(n) * contact.NormalMass;
            var oldImpulse = contact.NormalImpulse;
            contact.NormalImpulse = Math.Max(oldImpulse + impulse, 0.0);

            Block.ApplyBiasImpulse(n * (contact.BiasImpulse - oldBiasImpulse), r2);
            Block.ApplyImpulse(n * (contact.NormalImpulse - oldImpulse), r2);
        }
    }

    Vec2 BodyAPosition(int pair) => pair is AgentBar or AgentStem ? AgentPosition : Vec2.Zero;

    Vec2 BodyAVelocity(int pair) => pair is AgentBar or AgentStem ? AgentVelocity : Vec2.Zero;
}
