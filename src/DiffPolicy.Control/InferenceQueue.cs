namespace DiffPolicy.Control;

/// <summary>
/// One waiting slot per robot (per connection for stateless requests), latest observation wins: a new request replaces
/// the robot's waiting one, so there is never a backlog. Waiting requests start earliest due first, at most one running
/// per robot so that a robot's chunks come back in order. Resetting a robot cancels its running inference: its chunk
/// would be stale, and the robot's next request should not wait behind it.
/// Keyed by name because the policy's per-robot state is: a robot that reconnects under its name must see its old
/// state reset before its first new inference.
/// </summary>
internal sealed class InferenceQueue
{
    readonly object gate = new();
    readonly Dictionary<string, Work> waiting = [];
    readonly Dictionary<string, Work> running = [];
    readonly CancellationTokenSource stopping = new();
    long cancelled;
    bool closed;

    /// <summary>Running inferences cancelled by <see cref="Reset"/>.</summary>
    public long Cancelled => Interlocked.Read(ref cancelled);

    /// <summary>Cancelled by <see cref="Close"/>.</summary>
    public CancellationToken Stopping => stopping.Token;

    /// <summary>One slot: reset the policy's state for the robot first (when asked), then infer.</summary>
    internal sealed class Work(string key)
    {
        public string Key { get; } = key;

        public bool Reset { get; set; }

        public InferenceRequest? Request { get; set; }

        /// <summary>Cancelled when the robot resets while this work runs, or when the queue closes.</summary>
        public CancellationTokenSource Cancellation { get; } = new();
    }

    /// <summary>What to do with a waiting request now.</summary>
    internal enum Decision
    {
        Start,
        Overloaded,
        Wait,
    }

    /// <summary>One round of <see cref="Take"/>: robots to reset first, work to start, requests refused.</summary>
    internal sealed record Round(List<string> Resets, List<Work> Started, List<InferenceRequest> Refused);

    /// <summary>Queues <paramref name="request"/>; true when it replaced a request that had not started.</summary>
    public bool Submit(InferenceRequest request)
    {
        lock (gate)
        {
            var work = SlotOf(request.Key);
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
    public void Reset(string robot)
    {
        lock (gate)
        {
            if (running.TryGetValue(robot, out var current) && !current.Cancellation.IsCancellationRequested)
            {
                current.Cancellation.Cancel();
                Interlocked.Increment(ref cancelled);
            }
            var work = SlotOf(robot);
            work.Request = null;
            work.Reset = true;
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>Blocks until something waits; false once closed.</summary>
    public bool WaitForWork()
    {
        lock (gate)
        {
            while (!closed && waiting.Count == 0)
            {
                Monitor.Wait(gate);
            }
            return !closed;
        }
    }

    /// <summary>
    /// Takes up to <paramref name="max"/> requests, earliest due first, as <paramref name="decide"/> says (given how many
    /// would then be running); refused ones leave the queue. Robots whose inference still runs wait.
    /// </summary>
    public Round Take(int max, int runningElsewhere, Func<InferenceRequest, int, Decision> decide)
    {
        var round = new Round([], [], []);
        lock (gate)
        {
            if (closed)
            {
                return round;
            }
            foreach (var work in waiting.Values.Where(w => w.Request is null).ToList())
            {
                // A reset with nothing to infer afterwards.
                waiting.Remove(work.Key);
                round.Resets.Add(work.Key);
                work.Cancellation.Dispose();
            }
            foreach (var work in waiting.Values.OrderBy(w => w.Request!.Due).ToList())
            {
                if (running.ContainsKey(work.Key))
                {
                    continue;
                }
                if (work.Reset)
                {
                    round.Resets.Add(work.Key);
                    work.Reset = false;
                }
                var decision = round.Started.Count < max ? decide(work.Request!, runningElsewhere + round.Started.Count) : Decision.Wait;
                if (decision == Decision.Wait)
                {
                    if (round.Started.Count >= max) break;
                    continue;
                }
                waiting.Remove(work.Key);
                if (decision == Decision.Overloaded)
                {
                    round.Refused.Add(work.Request!);
                    work.Cancellation.Dispose();
                    continue;
                }
                running.Add(work.Key, work);
                round.Started.Add(work);
            }
            return round;
        }
    }

    /// <summary>The inference thread has finished <paramref name="work"/> from <see cref="Take"/>.</summary>
    public void Done(Work work)
    {
        lock (gate)
        {
            if (running.TryGetValue(work.Key, out var current) && current == work)
            {
                running.Remove(work.Key);
                Monitor.PulseAll(gate);
            }
            work.Cancellation.Dispose();
        }
    }

    /// <summary>Ends <see cref="WaitForWork"/> and cancels the running work.</summary>
    public void Close()
    {
        lock (gate)
        {
            closed = true;
            stopping.Cancel();
            foreach (var work in running.Values)
            {
                work.Cancellation.Cancel();
            }
            Monitor.PulseAll(gate);
        }
    }

    Work SlotOf(string key)
    {
        if (!waiting.TryGetValue(key, out var work))
        {
            work = new Work(key);
            waiting.Add(key, work);
        }
        return work;
    }
}
