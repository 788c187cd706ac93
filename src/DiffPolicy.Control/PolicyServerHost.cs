using System.Runtime.InteropServices;
using NetMQ;

namespace DiffPolicy.Control;

/// <summary>Runs a server as a process's main job: until Ctrl-C or SIGTERM, then sockets closed and NetMQ cleaned up.</summary>
public static class PolicyServerHost
{
    public static void RunUntilSignalled(PolicyServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            server.Run(stop.Token);
        }
        finally
        {
            server.Dispose();
            NetMQConfig.Cleanup(block: false);
        }
    }
}
