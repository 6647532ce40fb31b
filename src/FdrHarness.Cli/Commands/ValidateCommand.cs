using System.CommandLine;
using FdrHarness.Core;
using FdrHarness.Core.Diagnostics;
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
        if (result.Ok) return true;
        Report(result.Diagnostics, stderr);
        return false;
    }

    /// <summary>Every diagnostic, then "N errors" and <paramref name="outcome"/> (what the user's mistake stopped).</summary>
    public static void Report(IReadOnlyList<Diagnostic> diagnostics, TextWriter stderr, string outcome = "; nothing was run.")
    {
        foreach (var d in diagnostics) stderr.WriteLine(d);
        stderr.WriteLine($"{diagnostics.Count} error{(diagnostics.Count == 1 ? "" : "s")}{outcome}");
    }
}
