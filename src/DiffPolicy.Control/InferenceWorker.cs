using System.Diagnostics;
using DiffPolicy.Protocol;
using Microsoft.Extensions.Logging;
using NetMQ;

namespace DiffPolicy.Control;

/// <summary>
/// The one thread that calls the policy: it hands the policy waiting requests earliest due first, as many at once as
/// <paramref name="maxBatch"/> allows (the diffusion policy samples them together, joining between network calls), and
/// refuses with <c>overloaded</c> a request that cannot be answered before it is due. Results go back to the socket
/// thread through <paramref name="replies"/>.
/// </summary>
internal sealed class InferenceWorker(IChunkPolicy policy, InferenceQueue queue, NetMQQueue<InferenceReply> replies, int maxBatch, ILogger log)
{
    const double Smoothing = 0.2;

    readonly IChunkPolicy policy = policy;
    readonly InferenceQueue queue = queue;
    readonly NetMQQueue<InferenceReply> replies = replies;
    readonly int maxBatch = maxBatch;
    readonly PolicyMetadata metadata = policy.Metadata;
    readonly ILogger log = log;
    readonly LogBudget logBudget = new();   // this thread's own: failures and late chunks per robot
    Thread? thread;

    // Exponential averages over recent chunks, in Stopwatch ticks: a whole chunk (converged, from start to answer) and
    // one iteration of it. Zero until the first chunk: then every request is tried.
    double chunkTicks, iterationTicks;

    public void Start()
    {
        thread = new Thread(Loop) { IsBackground = true, Name = "policy-inference" };
        thread.Start();
    }

    /// <summary>Closes the queue, which cancels the running inferences, and waits for the thread.</summary>
    public void Stop()
    {
        queue.Close();
        thread?.Join();
    }

    void Loop()
    {
        while (queue.WaitForWork())
        {
            var feed = new Feed(this);
            try
            {
                policy.Serve(feed, queue.Stopping);
            }
            catch (OperationCanceledException) when (queue.Stopping.IsCancellationRequested)
            {
                // The server is stopping: nobody wants these chunks.
            }
            catch (Exception ex)
            {
                // A failing policy must not take the server down: its robots get policy_failed and their sessions stay.
                feed.FailRunning(ex);
            }
            logBudget.Expire();
        }
    }

    /// <summary>
    /// Whether <paramref name="request"/> can still be answered in time, with <paramref name="running"/> others
    /// sampled beside it. An anytime request needs one iteration before it is due. Any other needs a whole chunk, but is
    /// only refused when others are running: alone it is the best the server can do, and its chunk keeps the estimate honest.
    /// </summary>
    InferenceQueue.Decision Decide(InferenceRequest request, int running, long now)
    {
        if (request.Anytime)
        {
            return now + iterationTicks > request.Due ? InferenceQueue.Decision.Overloaded : InferenceQueue.Decision.Start;
        }
        return running > 0 && now + chunkTicks > request.Due ? InferenceQueue.Decision.Overloaded : InferenceQueue.Decision.Start;
    }

    void Learn(long ticks, int iterations, bool whole)
    {
        static double Mix(double average, double value) => average == 0 ? value : average + Smoothing * (value - average);
        if (whole)
        {
            chunkTicks = Mix(chunkTicks, ticks);
        }
        if (iterations > 0)
        {
            iterationTicks = Mix(iterationTicks, (double)ticks / iterations);
        }
    }

    /// <summary>The policy's view of the queue for one run of <see cref="IChunkPolicy.Serve"/>.</summary>
    sealed class Feed(InferenceWorker worker) : IInferenceFeed
    {
        readonly Dictionary<InferenceJob, (InferenceQueue.Work Work, long Started)> jobs = [];

        public IReadOnlyList<InferenceJob> Take(int running, int max = int.MaxValue)
        {
            var now = Stopwatch.GetTimestamp();
            var round = worker.queue.Take(Math.Min(max, worker.maxBatch - running), running, (request, others) => worker.Decide(request, others, now));
            foreach (var robot in round.Resets)
            {
                worker.policy.Reset(robot);
            }
            foreach (var refused in round.Refused)
            {
                var late = Stopwatch.GetElapsedTime(now, refused.Due).TotalMilliseconds;
                var text = late < 0
                    ? $"the answer was due {-late:F0} ms ago; {running} inference(s) running"
                    : $"the answer is due in {late:F0} ms, and a chunk now takes about {Stopwatch.GetElapsedTime(0, (long)(refused.Anytime ? worker.iterationTicks : worker.chunkTicks)).TotalMilliseconds:F0} ms{(refused.Anytime ? " per iteration" : "")} with {running} running";
                worker.Reply(refused, new ProtocolError(ErrorCodes.Overloaded, text, refused.Seq), ReplyKind.Overloaded);
            }
            if (round.Started.Count == 0)
            {
                return [];
            }
            var started = new List<InferenceJob>(round.Started.Count);
            foreach (var work in round.Started)
            {
                var request = work.Request!;
                var job = new InferenceJob(request.Window, request.Anytime ? request.Due : null, work.Cancellation.Token);
                jobs.Add(job, (Work: work, Started: Stopwatch.GetTimestamp()));
                started.Add(job);
            }
            return started;
        }

        public void Finished(InferenceJob job, InferenceResult? result, Exception? error)
        {
            if (!jobs.Remove(job, out var entry))
            {
                throw new InvalidOperationException("the policy finished a job it was not given");
            }
            var (work, started) = entry;
            try
            {
                var request = work.Request!;
                if (job.Cancellation.IsCancellationRequested)
                {
                    return;
                }
                if (error is null && result is not null)
                {
                    try
                    {
                        worker.Reply(request, worker.Chunk(request, result, started), ReplyKind.Chunk);
                        return;
                    }
                    catch (InvalidOperationException ex)
                    {
                        error = ex;
                    }
                }
                error ??= new InvalidOperationException("the policy returned neither actions nor an error");
                worker.Reply(request, new ProtocolError(ErrorCodes.PolicyFailed, $"{error.GetType().Name}: {error.Message}", request.Seq), ReplyKind.Failed);
                if (worker.logBudget.TrySpend(request.Key, out _))
                {
                    ServerLog.PolicyFailed(worker.log, request.Window.Robot, request.Seq, $"{error.GetType().Name}: {error.Message}");
                }
            }
            finally
            {
                worker.queue.Done(work);
            }
        }

        /// <summary>The policy threw: every job it was running fails.</summary>
        public void FailRunning(Exception ex)
        {
            foreach (var job in jobs.Keys.ToList())
            {
                Finished(job, null, ex);
            }
        }
    }

    ActionChunk Chunk(InferenceRequest request, InferenceResult result, long started)
    {
        var finished = Stopwatch.GetTimestamp();
        var expected = metadata.PredictedSteps * metadata.ActionDim;
        if (result.Actions.Length != expected)
        {
            throw new InvalidOperationException($"the policy returned {result.Actions.Length} values, not (horizon − n_obs_steps + 1) × action_dim = {expected}");
        }
        if (!Array.TrueForAll(result.Actions, float.IsFinite))
        {
            throw new InvalidOperationException("the policy returned non-finite actions");
        }
        Learn(finished - started, result.Iterations, result.Certificate?.Converged ?? true);
        var timing = new ServerTiming(
            Stopwatch.GetElapsedTime(request.ArrivedAt, started).TotalMilliseconds, Stopwatch.GetElapsedTime(started, finished).TotalMilliseconds,
            result.Iterations, result.Evaluations);
        var window = request.Window;
        if (finished > request.Due && logBudget.TrySpend(request.Key, out _))
        {
            ServerLog.LateChunk(log, window.Robot, request.Seq, Stopwatch.GetElapsedTime(request.Due, finished).TotalMilliseconds, timing.QueueMs, timing.InferMs);
        }
        else
        {
            ServerLog.Chunk(log, window.Robot, request.Seq, timing.InferMs, result.Iterations);
        }
        return new ActionChunk(
            request.Seq, request.ObsTime, window.Episode, window.Step, metadata.Dt, metadata.PredictedSteps, metadata.ActionDim, result.Actions, timing)
        {
            Certificate = result.Certificate,
        };
    }

    void Reply(InferenceRequest request, Message message, ReplyKind kind) =>
        replies.Enqueue(new InferenceReply(request.Identity, request.Session, request.Epoch, MessageCodec.Encode(message), kind));
}
