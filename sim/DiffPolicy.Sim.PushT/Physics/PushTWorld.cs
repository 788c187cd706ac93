namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>
/// The PushT scene as Chipmunk 7 simulates it: a kinematic circle (the agent), the dynamic T block made of two
/// rectangles, and four static wall segments of radius 2; no gravity, space damping 0, frictionless inelastic
/// contacts. <see cref="Step"/> follows cpSpaceStep's order (integrate positions, collide, pre-step, damp,
/// warm start, iterate) with split-impulse penetration correction. Allocation-free after construction.
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

    // Shape pairs that can touch: agent–bar, agent–stem, then bar–wall i and stem–wall i.
    // Shape B of every pair is a block rectangle, so the block is always body B.
    const int AgentBar = 0;
    const int AgentStem = 1;
    const int FirstWallPair = 2;
    public const int PairCount = 2 + 2 * 4;

    readonly Arbiter[] arbiters = new Arbiter[PairCount];
    readonly int[] active = new int[PairCount];
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
        AgentPosition = agentPosition;
        Block.Position = blockCenterOfGravity;
        Block.SetAngle(blockAngle);
    }

    PushTWorld(PushTWorld other)
    {
        arbiters = (Arbiter[])other.arbiters.Clone();
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

    /// <summary>True when the last substep had an agent–block contact.</summary>
    public bool AgentTouchesBlock
    {
        get
        {
            for (var i = 0; i < activeCount; i++)
            {
                if (active[i] is AgentBar or AgentStem)
                {
                    return true;
                }
            }
            return false;
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
        if (bar.Overlaps(a.X - r, a.Y - r, a.X + r, a.Y + r))
        {
            var m = default(Manifold);
            Collision.CircleToQuad(a, r, bar, ref m);
            Touch(AgentBar, m, a);
        }
        if (stem.Overlaps(a.X - r, a.Y - r, a.X + r, a.Y + r))
        {
            var m = default(Manifold);
            Collision.CircleToQuad(a, r, stem, ref m);
            Touch(AgentStem, m, a);
        }
        for (var w = 0; w < Walls.Length; w++)
        {
            ref readonly var wall = ref Walls[w];
            if (bar.Overlaps(wall.MinX, wall.MinY, wall.MaxX, wall.MaxY))
            {
                var m = default(Manifold);
                Collision.WallToQuad(wall, bar, ref m);
                Touch(FirstWallPair + w, m, Vec2.Zero);
            }
        }
        for (var w = 0; w < Walls.Length; w++)
        {
            ref readonly var wall = ref Walls[w];
            if (stem.Overlaps(wall.MinX, wall.MinY, wall.MaxX, wall.MaxY))
            {
                var m = default(Manifold);
                Collision.WallToQuad(wall, stem, ref m);
                Touch(FirstWallPair + 4 + w, m, Vec2.Zero);
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
