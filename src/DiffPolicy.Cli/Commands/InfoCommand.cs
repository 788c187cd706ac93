using System.CommandLine;
using System.Globalization;
using System.Reflection;
using DiffPolicy.Policy;
using Spectre.Console;
using TorchSharp;

namespace DiffPolicy.Cli.Commands;

/// <summary><c>diffpolicy info</c>: libtorch, device, threads and package versions.</summary>
internal sealed class InfoCommand : VerbCommand<InfoCommand.Settings>
{
    public sealed record Settings(string Device = "auto");

    readonly Option<string> device = CliOptions.Device();

    public InfoCommand()
        : base("info", "Show the libtorch version, the selected device, CUDA availability, threads and package versions.")
    {
        Add(device);
    }

    public override Settings Bind(ParseResult parse) => new(parse.GetValue(device)!);

    public override int Run(Settings settings, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var resolved = CliErrors.Reading("--device", settings.Device, () => TorchRuntime.ResolveDevice(settings.Device));
        var table = new Table().AddColumn("item").AddColumn("value");
        table.AddRow("libtorch", TorchRuntime.LibTorchVersion);
        table.AddRow("build backend", TorchRuntime.BuildBackend);
        table.AddRow("device", resolved.ToString());
        table.AddRow("cuda available", TorchRuntime.CudaAvailable ? "yes" : "no");
        table.AddRow("threads (libtorch)", TorchRuntime.Threads.ToString(CultureInfo.InvariantCulture));
        table.AddRow("processors", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        table.AddRow(".NET", Environment.Version.ToString());
        table.AddRow("TorchSharp", Markup.Escape(VersionOf(typeof(torch))));
        table.AddRow("diffpolicy", Markup.Escape(VersionOf(typeof(InfoCommand))));
        AnsiConsole.Write(table);
        return ExitCodes.Done;
    }

    static string VersionOf(Type type) =>
        type.Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? type.Assembly.GetName().Version?.ToString() ?? "?";
}
