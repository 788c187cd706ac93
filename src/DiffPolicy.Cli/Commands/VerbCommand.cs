using System.CommandLine;

namespace DiffPolicy.Cli.Commands;

/// <summary>
/// The shape of every verb. The constructor declares the options (System.CommandLine options with their validators,
/// most made by <see cref="CliOptions"/>, which bound every number); <see cref="Bind"/> reads them into the verb's
/// <typeparamref name="TSettings"/> record; <see cref="Run"/> does the work from the settings alone, so tests call it
/// without a command line. What escapes <see cref="Run"/> becomes one line and an exit code by <see cref="CliErrors"/>.
/// </summary>
/// <remarks>
/// <see cref="Run"/> checks its inputs and output paths (<see cref="OutputPaths"/>) before the long work and writes
/// outputs atomically. <c>cancel</c> is set by the first Ctrl-C or SIGTERM: a verb stops at its next safe point,
/// keeps what it can and returns (or throws <see cref="OperationCanceledException"/>): exit 130.
/// </remarks>
internal abstract class VerbCommand<TSettings> : Command
{
    protected VerbCommand(string name, string description)
        : base(name, description)
    {
        SetAction((parse, cancel) =>
        {
            var error = parse.InvocationConfiguration?.Error ?? Console.Error;
            return Task.FromResult(CliErrors.Run(Verb, error, () => Run(Bind(parse), cancel)));
        });
    }

    /// <summary>The verb as typed after <c>diffpolicy</c>, e.g. <c>pusht collect</c>.</summary>
    public string Verb => Parents.FirstOrDefault() is Command parent and not RootCommand ? $"{parent.Name} {Name}" : Name;

    /// <summary>The settings the command line asks for (System.CommandLine has already validated each option).</summary>
    public abstract TSettings Bind(ParseResult parse);

    /// <summary>Does the work; returns an exit code from <see cref="ExitCodes"/>.</summary>
    public abstract int Run(TSettings settings, CancellationToken cancel = default);

    /// <summary>Adds options in the order given (their order in --help).</summary>
    protected void Add(params Option[] options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var option in options) Options.Add(option);
    }
}
