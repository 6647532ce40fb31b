using System.Text;
using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios;

/// <summary>The outcome of loading a scenario: the model when valid, and every mistake found.</summary>
public sealed record LoadResult(Scenario? Scenario, IReadOnlyList<Diagnostic> Diagnostics, SourceMap Map)
{
    public bool Ok => Scenario is not null && Diagnostics.Count == 0;

    /// <summary>The --overlay files merged over the scenario, in order (see <see cref="ScenarioOverlay"/>).</summary>
    public IReadOnlyList<AppliedOverlay> Overlays { get; init; } = [];

    /// <summary>The <c>calibration</c> mappings of the calibrated overlays, in order (the intervals fdr predict draws from).</summary>
    public IReadOnlyList<YMapping> Calibrations { get; init; } = [];
}

/// <summary>Reads, binds and validates a scenario in one pass. User mistakes become diagnostics, never exceptions.</summary>
public static class ScenarioLoader
{
    /// <summary>Scenarios are hand-written; anything larger is not one.</summary>
    public const long MaxFileBytes = 4 * 1024 * 1024;

    /// <summary>Reads and checks the scenario at <paramref name="path"/> against <paramref name="budget"/> (by default the
    /// FDR_BUDGET_* variables over the defaults; <see cref="ResourceBudget.Unlimited"/> for a run's own record of what it ran).</summary>
    /// <param name="overlays">--overlay files merged over the scenario, in order, before it is bound and validated (<see cref="ScenarioOverlay"/>).</param>
    public static LoadResult Load(string path, ResourceBudget? budget = null, IReadOnlyList<string>? overlays = null)
    {
        var bag = new DiagnosticBag();
        var map = new SourceMap(path);
        var at = new SourceLocation(path, 0, 0);
        if (Directory.Exists(path))
        {
            bag.Add(at, "is a directory, not a scenario file", "give the path of a .yaml file inside it");
            return Fail(bag, map);
        }
        if (!File.Exists(path))
        {
            bag.Add(at, "no such file", SuggestFile(path));
            return Fail(bag, map);
        }
        byte[] bytes;
        try
        {
            bytes = InputFile.ReadAllBytes(path, MaxFileBytes);
        }
        catch (InputFileException e)
        {
            bag.Add(at, e.Message, "a scenario is a YAML file of at most 4 MiB");
            return Fail(bag, map);
        }
        return Parse(bytes, path, budget, overlays);
    }

    public static LoadResult Parse(string text, string file = "<scenario>", ResourceBudget? budget = null) => Parse(Encoding.UTF8.GetBytes(text), file, budget);

    public static LoadResult Parse(ReadOnlySpan<byte> bytes, string file, ResourceBudget? budget = null, IReadOnlyList<string>? overlays = null)
    {
        var bag = new DiagnosticBag();
        var map = new SourceMap(file);
        if (!TryDecode(bytes, file, bag, out var text)) return Fail(bag, map);
        if (string.IsNullOrWhiteSpace(text) || text.Split('\n').All(l => l.TrimStart().Length == 0 || l.TrimStart().StartsWith('#')))
        {
            bag.Add(new SourceLocation(file, 1, 1), "the scenario is empty", "start from scenarios/ci-smoke.yaml");
            return Fail(bag, map);
        }
        // The reader stops (null) at fatal mistakes; after others (a duplicate key) the tree is still worth binding.
        var root = YamlTreeReader.Read(text, file, bag);
        if (root is null) return Fail(bag, map);
        if (root is not YMapping mapping)
        {
            bag.Add(root.At, $"a scenario is a mapping with keys run, rses, experiments, ...; found {root.KindName}");
            return Fail(bag, map);
        }
        var layers = new List<ScenarioOverlay.Layer>();
        foreach (var path in overlays ?? [])
        {
            if (ScenarioOverlay.Read(path, bag) is not { } layer) return Fail(bag, map);
            layers.Add(layer);
            mapping = ScenarioOverlay.Merge(mapping, layer.Root);
        }
        budget ??= ResourceBudget.FromEnvironment(bag);
        // More RSEs or experiments than allowed are counted on the tree and refused before binding, the costliest step.
        if (!budget.CheckDeclared(mapping, bag)) return Fail(bag, map);
        var scenario = new ModelBinder(bag, map).Bind<Scenario>(mapping);
        if (scenario is null) return Fail(bag, map);
        // Validation runs after binding mistakes too, so one pass reports every mistake; it skips what failed to bind.
        scenario = Resolve(scenario, map);
        // The budget first, in time proportional to the scenario's size; what it refuses is not validated further.
        if (budget.Check(scenario, map, bag)) ScenarioValidator.Validate(scenario, map, bag);
        return new LoadResult(bag.HasErrors ? null : scenario, bag.Sorted(), map)
        {
            Overlays = [.. layers.Select(l => l.Applied)],
            Calibrations = [.. layers.Select(l => l.Calibration).OfType<YMapping>()],
        };
    }

    /// <summary>Fills the defaults that depend on other values: the names of phases and chaos actions (<see cref="DefaultNames"/>).</summary>
    private static Scenario Resolve(Scenario scenario, SourceMap map)
    {
        var resolved = DefaultNames.Apply(scenario);
        if (ReferenceEquals(resolved, scenario)) return scenario;
        for (var i = 0; i < scenario.Workload.Count; i++) map.Alias(resolved.Workload[i], scenario.Workload[i]);
        for (var i = 0; i < scenario.Chaos.Count; i++) map.Alias(resolved.Chaos[i], scenario.Chaos[i]);
        map.Alias(resolved, scenario);
        map.Alias(resolved.Workload, scenario.Workload);
        map.Alias(resolved.Chaos, scenario.Chaos);
        return resolved;
    }

    public static string PhaseKind(Phase phase) => DefaultNames.KindOf(phase);

    private static bool TryDecode(ReadOnlySpan<byte> bytes, string file, DiagnosticBag bag, out string text)
    {
        text = "";
        var nul = bytes.IndexOf((byte)0);
        if (nul >= 0)
        {
            bag.Add(Locate(bytes, nul, file), "the file is binary (it contains a NUL byte), not YAML text", "give the path of a .yaml scenario");
            return false;
        }
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            bag.Add(Locate(bytes, Math.Max(0, e.Index), file), "the file is not UTF-8 text", "save it as UTF-8");
            return false;
        }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        var control = text.IndexOfAny([.. Enumerable.Range(1, 31).Where(c => c is not (9 or 10 or 13)).Select(c => (char)c)]);
        if (control >= 0)
        {
            var line = 1 + text.AsSpan(0, control).Count('\n');
            var column = control - (text.LastIndexOf('\n', Math.Max(0, control - 1)) + 1) + 1;
            bag.Add(new SourceLocation(file, line, column),
                $"control character U+{(int)text[control]:X4} in the text; the file looks binary");
            return false;
        }
        return true;
    }

    private static SourceLocation Locate(ReadOnlySpan<byte> bytes, int index, string file)
    {
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < index && i < bytes.Length; i++)
            if (bytes[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        return new SourceLocation(file, line, index - lineStart + 1);
    }

    private static string? SuggestFile(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is null || !Directory.Exists(dir)) return null;
        var names = Directory.EnumerateFiles(dir, "*.y*ml").Select(Path.GetFileName).OfType<string>();
        var close = Suggestions.Closest(Path.GetFileName(path), names);
        return close is null ? null : $"did you mean '{Path.Combine(Path.GetDirectoryName(path) ?? "", close)}'?";
    }

    private static LoadResult Fail(DiagnosticBag bag, SourceMap map) => new(null, bag.Sorted(), map);
}
