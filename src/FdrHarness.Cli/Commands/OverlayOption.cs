using System.CommandLine;
using FdrHarness.Core.Scenarios;

namespace FdrHarness.Cli.Commands;

/// <summary>--overlay FILE (repeatable): scenario overlays such as fdr calibrate's, merged in order (fdr run, plan, predict, recommend).</summary>
public static class OverlayOption
{
    public static Option<string[]> Create(params string[] aliases) => new("--overlay", aliases)
    {
        Description = "A YAML overlay merged over the scenario before it is validated (repeatable, applied in order, as Helm values files): "
            + "mappings merge key by key, lists and values replace, null removes; e.g. the file fdr calibrate writes.",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>
    /// The scenario at <paramref name="path"/> with <paramref name="overlays"/> merged, as <see cref="ScenarioLoader.Load"/> gives it;
    /// null after telling a mistake of an overlay file itself (missing, not YAML, not a mapping) in one line per mistake.
    /// Mistakes of the merged scenario are left in the result for the caller to report.
    /// </summary>
    public static LoadResult? Load(string path, IReadOnlyList<string>? overlays, TextWriter stderr, ResourceBudget? budget = null)
    {
        var result = ScenarioLoader.Load(path, budget, overlays);
        if (result.Ok || overlays is not { Count: > 0 }) return result;
        // The overlay file could not be read: its own mistakes, one line each (the scenario's are told as usual).
        var own = result.Diagnostics.Where(d => overlays.Contains(d.Location.File, StringComparer.Ordinal)).ToList();
        if (own.Count == 0 || result.Scenario is not null || own.Count != result.Diagnostics.Count) return result;
        foreach (var d in own) stderr.WriteLine($"--overlay {d}");
        return null;
    }
}
