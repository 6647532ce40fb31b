using System.CommandLine;
using FdrHarness.Core;

namespace FdrHarness.Cli.Commands;

public static class ReportCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var runDir = new Argument<string>("run-dir") { Description = "A run directory (reports/<scenario>/<time>-<seed>/)." };
        var command = new Command("report", "Rebuild a run's report from its events.parquet and samples.parquet.") { runDir };
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(runDir)!;
            if (!Directory.Exists(dir))
            {
                stderr.WriteLine($"{dir}: error: no such run directory (a folder under reports/<scenario>/)");
                return ExitCodes.InvalidInput;
            }
            var events = Path.Combine(dir, "events.parquet");
            if (!File.Exists(events))
            {
                stderr.WriteLine($"{dir}: error: not a run directory: it has no events.parquet");
                return ExitCodes.InvalidInput;
            }
            stderr.WriteLine($"{dir}: the report generator is not built yet (issue #4); the observations are in {events}");
            return ExitCodes.UnexpectedFailure;
        });
        return command;
    }
}
