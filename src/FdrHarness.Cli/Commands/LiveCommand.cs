using System.CommandLine;
using FdrHarness.Core;
using FdrHarness.Core.Scenarios;
using FdrHarness.Rucio;

namespace FdrHarness.Cli.Commands;

/// <summary>`fdr live prepare SCENARIO`: sets up a disposable test Rucio for a scenario (scopes, RSE attributes, account limits).</summary>
public static class LiveCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scenario = new Argument<string>("scenario") { Description = "Scenario file (YAML) whose target.rucio is marked disposable: true." };
        var rucioUrl = RucioUrlOption.Create();
        var prepare = new Command("prepare",
            "Create on a disposable test Rucio what the scenario needs and may be created: its scopes, RSE attributes and account limits; then check again.")
            { scenario, rucioUrl };
        prepare.SetAction(parse =>
        {
            var loaded = ScenarioLoader.Load(parse.GetValue(scenario)!);
            if (!ValidateCommand.Report(loaded, stderr)) return ExitCodes.InvalidInput;
            using var signals = new Signals();
            try
            {
                return RucioTarget.PrepareAsync(loaded.Scenario!, new LiveRunOptions { RucioUrl = parse.GetValue(rucioUrl) }, stdout, stderr, signals.Token)
                    .GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (signals.Received is { } signal)
            {
                stderr.WriteLine("fdr live prepare: interrupted; what was made so far stays (each change is one call, safe to repeat)");
                return signal;
            }
        });
        return new Command("live", "Work on the live target itself.") { prepare };
    }
}
