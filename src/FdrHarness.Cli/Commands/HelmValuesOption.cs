using System.CommandLine;
using FdrHarness.Core.Scenarios.Helm;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Cli.Commands;

/// <summary>--helm-values FILE: a rucio-daemons values file as the daemons' configuration (fdr run and fdr sweep).</summary>
public static class HelmValuesOption
{
    public static Option<string?> Create() => new("--helm-values")
    {
        Description = "A rucio-daemons Helm values file (counts, threads, resources) applied over the scenario's daemons.",
    };

    /// <summary>The scenario with the file applied, or null after printing every mistake (file:line:column) on stderr.</summary>
    public static Scenario? Apply(Scenario scenario, string? path, TextWriter stdout, TextWriter stderr)
    {
        if (path is null) return scenario;
        var result = HelmValues.ApplyFile(scenario, path);
        if (!result.Ok)
        {
            ValidateCommand.Report(result.Diagnostics, stderr, " in the values file; nothing was run.");
            return null;
        }
        foreach (var note in result.Notes) stdout.WriteLine($"{path}: note: {note}");
        return result.Scenario;
    }
}
