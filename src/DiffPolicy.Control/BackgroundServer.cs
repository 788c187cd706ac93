namespace DiffPolicy.Control;

/// <summary>A policy server serving on its own thread of this process, for verbs that run the robot too (eval, soak).</summary>
public sealed class BackgroundServer : IDisposable
{
    readonly CancellationTokenSource stop = new();
    readonly Thread thread;
    Exception? failure;

    public BackgroundServer(IChunkPolicy policy, string bind)
        : this(policy, new PolicyServerOptions { Bind = bind })
    {
    }

    public BackgroundServer(IChunkPolicy policy, PolicyServerOptions options)
    {
        Server = new PolicyServer(policy, options);
        thread = new Thread(Serve) { IsBackground = true, Name = "policy-server" };
        thread.Start();
    }

    public PolicyServer Server { get; }

    public string Endpoint => Server.Endpoint;

    /// <summary>Stops the server; rethrows what made it stop early, if anything did.</summary>
    public void Dispose()
    {
        stop.Cancel();
        thread.Join();
        Server.Dispose();
        stop.Dispose();
        if (failure is not null) throw new InvalidOperationException($"the policy server failed: {failure.Message}", failure);
    }

    void Serve()
    {
        try
        {
            Server.Run(stop.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            failure = ex;
        }
    }
}
