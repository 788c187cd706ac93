using System.CommandLine;
using System.Reflection;
using DiffPolicy.Policy;
using Spectre.Console;
using TorchSharp;

namespace DiffPolicy.Cli.Commands;

internal static class InfoCommand
{
    public static Command Create()
    {
        var device = CommonOptions.Device();
        var command = new Command("info", "Show the libtorch version, the selected device, CUDA availability, threads and package versions.")
        {
            device,
        };
        command.SetAction(parse =>
        {
            var resolved = TorchRuntime.ResolveDevice(parse.GetValue(device)!);
            var table = new Table().AddColumn("item").AddColumn("value");
            table.AddRow("libtorch", TorchRuntime.LibTorchVersion);
            table.AddRow("build backend", TorchRuntime.BuildBackend);
            table.AddRow("device", resolved.ToString());
            table.AddRow("cuda available", TorchRuntime.CudaAvailable ? "yes" : "no");
            table.AddRow("threads (libtorch)", TorchRuntime.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("processors", Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow(".NET", Environment.Version.ToString());
            foreach (var (name, type) in new (string, Type)[]
            {
                ("TorchSharp", typeof(torch)),
                ("diffpolicy", typeof(InfoCommand)),
            })
            {
                table.AddRow(name, Markup.Escape(VersionOf(type)));
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    static string VersionOf(Type type) =>
        type.Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? type.Assembly.GetName().Version?.ToString() ?? "?";
}
