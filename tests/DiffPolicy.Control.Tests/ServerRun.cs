using System.Net.Sockets;
using NetMQ;

namespace DiffPolicy.Control.Tests;

/// <summary>A policy server running on a background thread for one test; disposing stops it and closes its socket.</summary>
internal sealed class ServerRun : IDisposable
{
    readonly CancellationTokenSource stop = new();
    readonly Task running;

    public ServerRun(IChunkPolicy policy, PolicyServerOptions? options = null)
    {
        options ??= new PolicyServerOptions { Bind = "tcp://127.0.0.1:*" };
        Server = BindWithRetry(policy, options);
        running = Task.Factory.StartNew(() => Server.Run(stop.Token), TaskCreationOptions.LongRunning);
    }

    public PolicyServer Server { get; }

    public string Endpoint => Server.Endpoint;

    public void Dispose()
    {
        stop.Cancel();
        Assert.True(running.Wait(TimeSpan.FromSeconds(10)), "the server did not stop within 10 s");
        stop.Dispose();
    }

    // A restarted server rebinds the port its predecessor just closed; NetMQ releases it asynchronously.
    static PolicyServer BindWithRetry(IChunkPolicy policy, PolicyServerOptions options)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new PolicyServer(policy, options);
            }
            catch (NetMQException ex) when (ex.InnerException is SocketException or null && attempt < 50)
            {
                Thread.Sleep(100);
            }
        }
    }
}
