namespace DiffPolicy.Sim.PushT.Physics;

/// <summary>An axis-aligned box (Chipmunk's cpBB): left, bottom, right, top in world coordinates.</summary>
internal readonly record struct Box(double L, double B, double R, double T)
{
    public bool Intersects(in Box o) => L <= o.R && o.L <= R && B <= o.T && o.B <= T;

    public bool Contains(in Box o) => L <= o.L && R >= o.R && B <= o.B && T >= o.T;

    public double Area => (R - L) * (T - B);

    public Box Merge(in Box o) => new(Math.Min(L, o.L), Math.Min(B, o.B), Math.Max(R, o.R), Math.Max(T, o.T));

    public double MergedArea(in Box o) => (Math.Max(R, o.R) - Math.Min(L, o.L)) * (Math.Max(T, o.T) - Math.Min(B, o.B));

    /// <summary>Chipmunk's tie-breaker between two equally costly insertions: Manhattan distance of the centres (×2).</summary>
    public double Proximity(in Box o) => Math.Abs(L + R - o.L - o.R) + Math.Abs(B + T - o.B - o.T);
}

/// <summary>
/// The order in which Chipmunk 7 meets the scene's shape pairs, which is the order its solver iterates their
/// contacts in. Sequential impulses are order-dependent: when the block is squeezed between the agent and a
/// wall, solving wall–stem before or after agent–bar gives different motions (on seed 100005 the two part by
/// 9 px within one step). Chipmunk's order comes from its broad phase, a bounding-box tree (cpBBTree), so this
/// class keeps that tree as Chipmunk builds and updates it for PushT's seven shapes:
/// <list type="bullet">
/// <item>shape ids in the original's creation order (the walls, the agent, the bar, the stem: Chipmunk's hash
/// ids 0–6); the static tree holds the walls, the dynamic tree the other three;</item>
/// <item>each dynamic leaf keeps a "fat" box, the shape's box grown by 10 % of its size on each side and by a
/// tenth of its body's velocity; a leaf whose shape leaves its fat box is taken out and inserted again at the
/// least-area place, and its remembered pairs are dropped;</item>
/// <item>each substep visits the dynamic leaves depth first: a leaf reinserted this substep queries the static
/// tree and its tree siblings; any other leaf replays its remembered pairs, newest first.</item>
/// </list>
/// Only that visiting order matters here, but getting it requires the whole structure, including the boxes the
/// shapes had when the original created them (the agent at (256, 400), the T at (256, 300), before a reset
/// moves them). Fixed-size arrays: nothing is allocated after construction.
/// </summary>
internal sealed class BroadPhase
{
    public const int WallCount = 4;
    public const int Agent = 4;
    public const int Bar = 5;
    public const int Stem = 6;
    public const int ShapeCount = 7;

    // Chipmunk's leaf set is a hash set of 5 bins (ids modulo 5) walked bin by bin: bar (5), stem (6), agent (4).
    static readonly int[] UpdateOrder = [Bar, Stem, Agent];

    // Growth of the fat box: Chipmunk writes these as float literals (0.1f).
    static readonly double FatMargin = 0.1f;
    static readonly double VelocityScale = 0.1f;

    const int None = -1;
    const int InternalNodes = 6;
    const int MaxPairs = 32;
    const int MaxCandidates = 32;

    struct Node
    {
        public Box Bb;
        public int Parent;
        public int A;
        public int B;
        public long Stamp;
        public int Pairs;
    }

    struct Thread
    {
        public int Prev;
        public int Leaf;
        public int Next;
    }

    struct Pair
    {
        public Thread A;
        public Thread B;
    }

    // Nodes 0–6 are the leaves of shapes 0–6; the rest are internal nodes, reused through a free list.
    readonly Node[] nodes = new Node[ShapeCount + InternalNodes];
    readonly Pair[] pairs = new Pair[MaxPairs];
    readonly int[] candidates = new int[2 * MaxCandidates];
    readonly Box[] shapeBoxes = new Box[ShapeCount];
    readonly Vec2[] velocities = new Vec2[ShapeCount];
    int freeNode;
    int freePair;
    int staticRoot;
    int dynamicRoot;
    long stamp;
    int candidateCount;
    bool collecting;

    /// <summary>The tree as the original's set-up leaves it: walls, then the agent, the bar and the stem inserted at rest.</summary>
    public BroadPhase(ReadOnlySpan<Box> setUpBoxes)
    {
        if (setUpBoxes.Length != ShapeCount)
        {
            throw new ArgumentException($"expected {ShapeCount} boxes", nameof(setUpBoxes));
        }
        freeNode = None;
        for (var i = nodes.Length - 1; i >= ShapeCount; i--)
        {
            RecycleNode(i);
        }
        freePair = None;
        for (var i = MaxPairs - 1; i >= 0; i--)
        {
            RecyclePair(i);
        }
        for (var i = 0; i < ShapeCount; i++)
        {
            nodes[i] = new Node { Parent = None, A = None, B = None, Pairs = None };
        }
        staticRoot = None;
        dynamicRoot = None;

        // cpBBTreeInsert into the static tree: exact boxes; the stamp is the dynamic tree's, bumped per insert.
        for (var wall = 0; wall < WallCount; wall++)
        {
            nodes[wall].Bb = setUpBoxes[wall];
            staticRoot = SubtreeInsert(staticRoot, wall);
            nodes[wall].Stamp = stamp;
            stamp++;
        }
        // cpBBTreeInsert into the dynamic tree: fat boxes at rest, then the new leaf's pairs (no callbacks).
        for (var shape = Agent; shape < ShapeCount; shape++)
        {
            shapeBoxes[shape] = setUpBoxes[shape];
            nodes[shape].Bb = FatBox(shape);
            dynamicRoot = SubtreeInsert(dynamicRoot, shape);
            nodes[shape].Stamp = stamp;
            MarkLeaf(shape);
            stamp++;
        }
    }

    BroadPhase(BroadPhase other)
    {
        nodes = (Node[])other.nodes.Clone();
        pairs = (Pair[])other.pairs.Clone();
        candidates = (int[])other.candidates.Clone();
        shapeBoxes = (Box[])other.shapeBoxes.Clone();
        velocities = (Vec2[])other.velocities.Clone();
        freeNode = other.freeNode;
        freePair = other.freePair;
        staticRoot = other.staticRoot;
        dynamicRoot = other.dynamicRoot;
        stamp = other.stamp;
        candidateCount = other.candidateCount;
    }

    public BroadPhase Clone() => new(this);

    /// <summary>Number of shape pairs met by the last <see cref="Query"/>.</summary>
    public int CandidateCount => candidateCount;

    /// <summary>The <paramref name="index"/>-th shape pair met by the last <see cref="Query"/>.</summary>
    public (int First, int Second) Candidate(int index) => (candidates[2 * index], candidates[2 * index + 1]);

    /// <summary>
    /// Chipmunk's cpBBTreeReindexQuery for one substep: updates the moving leaves from their shapes' current boxes
    /// and body velocities, then lists the pairs whose tree boxes overlap in the order Chipmunk visits them.
    /// </summary>
    public void Query(in Box agent, Vec2 agentVelocity, in Box bar, in Box stem, Vec2 blockVelocity)
    {
        shapeBoxes[Agent] = agent;
        shapeBoxes[Bar] = bar;
        shapeBoxes[Stem] = stem;
        velocities[Agent] = agentVelocity;
        velocities[Bar] = blockVelocity;
        velocities[Stem] = blockVelocity;
        foreach (var shape in UpdateOrder)
        {
            UpdateLeaf(shape);
        }
        candidateCount = 0;
        collecting = true;
        MarkSubtree(dynamicRoot);
        collecting = false;
        stamp++;
    }

    Box FatBox(int shape)
    {
        var bb = shapeBoxes[shape];
        var x = (bb.R - bb.L) * FatMargin;
        var y = (bb.T - bb.B) * FatMargin;
        var v = velocities[shape] * VelocityScale;
        return new Box(bb.L + Math.Min(-x, v.X), bb.B + Math.Min(-y, v.Y), bb.R + Math.Max(x, v.X), bb.T + Math.Max(y, v.Y));
    }

    void UpdateLeaf(int leaf)
    {
        if (nodes[leaf].Bb.Contains(shapeBoxes[leaf]))
        {
            return;
        }
        nodes[leaf].Bb = FatBox(leaf);
        dynamicRoot = SubtreeRemove(dynamicRoot, leaf);
        dynamicRoot = SubtreeInsert(dynamicRoot, leaf);
        ClearPairs(leaf);
        nodes[leaf].Stamp = stamp;
    }

    bool IsLeaf(int node) => node < ShapeCount;

    int SubtreeInsert(int subtree, int leaf)
    {
        if (subtree == None)
        {
            return leaf;
        }
        if (IsLeaf(subtree))
        {
            return NewNode(leaf, subtree);
        }
        ref var s = ref nodes[subtree];
        var leafBb = nodes[leaf].Bb;
        var costA = nodes[s.B].Bb.Area + nodes[s.A].Bb.MergedArea(leafBb);
        var costB = nodes[s.A].Bb.Area + nodes[s.B].Bb.MergedArea(leafBb);
        if (costA == costB)
        {
            costA = nodes[s.A].Bb.Proximity(leafBb);
            costB = nodes[s.B].Bb.Proximity(leafBb);
        }
        if (costB < costA)
        {
            SetB(subtree, SubtreeInsert(nodes[subtree].B, leaf));
        }
        else
        {
            SetA(subtree, SubtreeInsert(nodes[subtree].A, leaf));
        }
        nodes[subtree].Bb = nodes[subtree].Bb.Merge(leafBb);
        return subtree;
    }

    int SubtreeRemove(int subtree, int leaf)
    {
        if (leaf == subtree)
        {
            return None;
        }
        var parent = nodes[leaf].Parent;
        if (parent == subtree)
        {
            var other = Other(subtree, leaf);
            nodes[other].Parent = nodes[subtree].Parent;
            RecycleNode(subtree);
            return other;
        }
        ReplaceChild(nodes[parent].Parent, parent, Other(parent, leaf));
        return subtree;
    }

    void ReplaceChild(int parent, int child, int value)
    {
        if (nodes[parent].A == child)
        {
            RecycleNode(child);
            SetA(parent, value);
        }
        else
        {
            RecycleNode(child);
            SetB(parent, value);
        }
        for (var node = parent; node != None; node = nodes[node].Parent)
        {
            nodes[node].Bb = nodes[nodes[node].A].Bb.Merge(nodes[nodes[node].B].Bb);
        }
    }

    int Other(int node, int child) => nodes[node].A == child ? nodes[node].B : nodes[node].A;

    void SetA(int node, int value)
    {
        nodes[node].A = value;
        nodes[value].Parent = node;
    }

    void SetB(int node, int value)
    {
        nodes[node].B = value;
        nodes[value].Parent = node;
    }

    int NewNode(int a, int b)
    {
        var node = freeNode;
        if (node == None)
        {
            throw new InvalidOperationException("broad phase: out of tree nodes");
        }
        freeNode = nodes[node].Parent;
        nodes[node] = new Node { Bb = nodes[a].Bb.Merge(nodes[b].Bb), Parent = None, Pairs = None };
        SetA(node, a);
        SetB(node, b);
        return node;
    }

    void RecycleNode(int node)
    {
        // Leaves are never pooled; Chipmunk recycles the removed internal node (the child passed here is internal).
        if (IsLeaf(node))
        {
            return;
        }
        nodes[node].Parent = freeNode;
        freeNode = node;
    }

    void MarkSubtree(int subtree)
    {
        if (IsLeaf(subtree))
        {
            MarkLeaf(subtree);
        }
        else
        {
            MarkSubtree(nodes[subtree].A);
            MarkSubtree(nodes[subtree].B);
        }
    }

    void MarkLeaf(int leaf)
    {
        if (nodes[leaf].Stamp == stamp)
        {
            if (staticRoot != None)
            {
                MarkLeafQuery(staticRoot, leaf, left: false);
            }
            for (var node = leaf; nodes[node].Parent != None; node = nodes[node].Parent)
            {
                var parent = nodes[node].Parent;
                if (node == nodes[parent].A)
                {
                    MarkLeafQuery(nodes[parent].B, leaf, left: true);
                }
                else
                {
                    MarkLeafQuery(nodes[parent].A, leaf, left: false);
                }
            }
        }
        else
        {
            var pair = nodes[leaf].Pairs;
            while (pair != None)
            {
                if (leaf == pairs[pair].B.Leaf)
                {
                    Collect(pairs[pair].A.Leaf, leaf);
                    pair = pairs[pair].B.Next;
                }
                else
                {
                    pair = pairs[pair].A.Next;
                }
            }
        }
    }

    void MarkLeafQuery(int subtree, int leaf, bool left)
    {
        if (!nodes[leaf].Bb.Intersects(nodes[subtree].Bb))
        {
            return;
        }
        if (IsLeaf(subtree))
        {
            if (left)
            {
                InsertPair(leaf, subtree);
            }
            else
            {
                if (nodes[subtree].Stamp < nodes[leaf].Stamp)
                {
                    InsertPair(subtree, leaf);
                }
                Collect(leaf, subtree);
            }
        }
        else
        {
            MarkLeafQuery(nodes[subtree].A, leaf, left);
            MarkLeafQuery(nodes[subtree].B, leaf, left);
        }
    }

    void Collect(int first, int second)
    {
        if (!collecting)
        {
            return;
        }
        if (candidateCount == MaxCandidates)
        {
            throw new InvalidOperationException("broad phase: too many candidate pairs");
        }
        candidates[2 * candidateCount] = first;
        candidates[2 * candidateCount + 1] = second;
        candidateCount++;
    }

    // Pair threads: every pair sits in the lists of both its leaves, newest first.

    void InsertPair(int a, int b)
    {
        var nextA = nodes[a].Pairs;
        var nextB = nodes[b].Pairs;
        var pair = freePair;
        if (pair == None)
        {
            throw new InvalidOperationException("broad phase: out of pairs");
        }
        freePair = pairs[pair].A.Next;
        pairs[pair] = new Pair
        {
            A = new Thread { Prev = None, Leaf = a, Next = nextA },
            B = new Thread { Prev = None, Leaf = b, Next = nextB },
        };
        nodes[a].Pairs = pair;
        nodes[b].Pairs = pair;
        if (nextA != None)
        {
            SetPrev(nextA, a, pair);
        }
        if (nextB != None)
        {
            SetPrev(nextB, b, pair);
        }
    }

    void SetPrev(int pair, int leaf, int value)
    {
        if (pairs[pair].A.Leaf == leaf)
        {
            pairs[pair].A.Prev = value;
        }
        else
        {
            pairs[pair].B.Prev = value;
        }
    }

    void SetNext(int pair, int leaf, int value)
    {
        if (pairs[pair].A.Leaf == leaf)
        {
            pairs[pair].A.Next = value;
        }
        else
        {
            pairs[pair].B.Next = value;
        }
    }

    void Unlink(Thread thread)
    {
        if (thread.Next != None)
        {
            SetPrev(thread.Next, thread.Leaf, thread.Prev);
        }
        if (thread.Prev != None)
        {
            SetNext(thread.Prev, thread.Leaf, thread.Next);
        }
        else
        {
            nodes[thread.Leaf].Pairs = thread.Next;
        }
    }

    void ClearPairs(int leaf)
    {
        var pair = nodes[leaf].Pairs;
        nodes[leaf].Pairs = None;
        while (pair != None)
        {
            int next;
            if (pairs[pair].A.Leaf == leaf)
            {
                next = pairs[pair].A.Next;
                Unlink(pairs[pair].B);
            }
            else
            {
                next = pairs[pair].B.Next;
                Unlink(pairs[pair].A);
            }
            RecyclePair(pair);
            pair = next;
        }
    }

    void RecyclePair(int pair)
    {
        pairs[pair].A.Next = freePair;
        freePair = pair;
    }
}
