using System.CommandLine;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios;

namespace FdrHarness.Cli.Commands;

public static class ValidateCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scenario = new Argument<string>("scenario") { Description = "Scenario file (YAML)." };
        var command = new Command("validate", "Check a scenario: every mistake with file:line:column, what was expected and a suggestion.") { scenario };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(scenario)!;
            var result = ScenarioLoader.Load(path);
            if (!Report(result, stderr)) return ExitCodes.InvalidInput;
            stdout.WriteLine($"✓ {path} is a valid scenario");
            PlanPrinter.Print(result.Scenario!, stdout);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Prints the diagnostics; true when there were none.</summary>
    public static bool Report(LoadResult result, TextWriter stderr)
    {
        foreach (var d in result.Diagnostics) stderr.WriteLine(d);
        if (result.Ok) return true;
        stderr.WriteLine($"{result.Diagnostics.Count} error{(result.Diagnostics.Count == 1 ? "" : "s")}; nothing was run.");
        return false;
    }
}
