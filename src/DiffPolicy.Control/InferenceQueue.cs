namespace DiffPolicy.Control;

/// <summary>
/// One slot per robot name, latest observation wins: a new request replaces the robot's waiting one, so there is
/// never a backlog. Robots are served in the order their slots filled, so one busy robot cannot starve another.
/// Resetting a robot whose inference is running cancels it: its chunk would be stale, and the robot's next request
/// should not wait behind it.
/// Keyed by name because the policy's per-robot state is: a robot that reconnects under its name must see its old
/// state reset before its first new inference.
/// </summary>
internal sealed class InferenceQueue
{
    readonly object gate = new();
    readonly Dictionary<string, Work> slots = [];
    readonly Queue<string> order = new();
    Work? running;
    long cancelled;
    bool closed;

    /// <summary>Running inferences cancelled by <see cref="Reset"/>.</summary>
    public long Cancelled => Interlocked.Read(ref cancelled);

    /// <summary>What the inference thread does for one robot: reset the policy's state first, then infer.</summary>
    internal sealed class Work(RobotSession session)
    {
        /// <summary>The robot's latest session, to be told if the policy fails.</summary>
        public RobotSession Session { get; set; } = session;

        public bool Reset { get; set; }

        public InferenceRequest? Request { get; set; }

        /// <summary>Cancelled when the robot resets while this work runs, or when the queue closes.</summary>
        public CancellationTokenSource Cancellation { get; } = new();
    }

    /// <summary>Queues <paramref name="request"/>; true when it replaced a request that had not started.</summary>
    public bool Submit(InferenceRequest request)
    {
        lock (gate)
        {
            var work = SlotOf(request.Session);
            var superseded = work.Request is not null;
            work.Request = request;
            Monitor.PulseAll(gate);
            return superseded;
        }
    }

    /// <summary>
    /// Cancels the robot's running inference, drops its waiting request and has the policy forget the robot before
    /// anything else of it runs.
    /// </summary>
    public void Reset(RobotSession session)
    {
        lock (gate)
        {
            if (running is { Request: not null } current && current.Session.Name == session.Name && !current.Cancellation.IsCancellationRequested)
            {
                current.Cancellation.Cancel();
                Interlocked.Increment(ref cancelled);
            }
            var work = SlotOf(session);
            work.Request = null;
            work.Reset = true;
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>Blocks until there is work; null once closed.</summary>
    public Work? Take()
    {
        lock (gate)
        {
            while (!closed && order.Count == 0)
            {
                Monitor.Wait(gate);
            }
            if (closed)
            {
                return null;
            }
            var robot = order.Dequeue();
            var work = slots[robot];
            slots.Remove(robot);
            running = work;
            return work;
        }
    }

    /// <summary>The inference thread has finished <paramref name="work"/> from <see cref="Take"/>.</summary>
    public void Done(Work work)
    {
        lock (gate)
        {
            if (running == work) running = null;
            work.Cancellation.Dispose();
        }
    }

    /// <summary>Ends <see cref="Take"/> and cancels the running work.</summary>
    public void Close()
    {
        lock (gate)
        {
            closed = true;
            running?.Cancellation.Cancel();
            Monitor.PulseAll(gate);
        }
    }

    Work SlotOf(RobotSession session)
    {
        if (!slots.TryGetValue(session.Name, out var work))
        {
            work = new Work(session);
            slots.Add(session.Name, work);
            order.Enqueue(session.Name);
        }
        work.Session = session;
        return work;
    }
}
