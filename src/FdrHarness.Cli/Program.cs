using FdrHarness.Cli;

return FdrApp.Run(args, Console.Out, Console.Error);
