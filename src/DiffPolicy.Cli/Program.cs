DiffPolicy.Cli.NativeHeap.LimitArenas();

return DiffPolicy.Cli.CliApp.Start(args);
