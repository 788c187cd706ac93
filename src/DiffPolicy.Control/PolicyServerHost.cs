using NetMQ;

namespace DiffPolicy.Control;

/// <summary>Runs a server as a process's main job: until <c>stop</c> is cancelled (the CLI cancels it on Ctrl-C or SIGTERM), then sockets closed and NetMQ cleaned up.</summary>
public static class PolicyServerHost
{
    public static void Run(PolicyServer server, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(server);
        try
        {
            server.Run(stop);
        }
        finally
        {
            server.Dispose();
            NetMQConfig.Cleanup(block: false);
        }
    }
}
