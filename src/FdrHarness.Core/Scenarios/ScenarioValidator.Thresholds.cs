using System.Globalization;
using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Figures;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Thresholds;

namespace FdrHarness.Core.Scenarios;

/// <summary>
/// Thresholds, checked as the run would judge them: the figure against the catalogue (did you mean …), its selectors
/// against the scenario's daemons, RSEs, scopes and chaos names, the phase or window it is judged over, whether the
/// target observes it at all, and whether the value is written in the figure's unit.
/// </summary>
public sealed partial class ScenarioValidator
{
    private void Thresholds()
    {
        var phases = _s.Workload.Select(p => p.Name!).ToList();
        var allPhases = !_map.IsInvalid(_s.Workload);
        foreach (var t in _s.Thresholds)
        {
            if (_map.IsInvalid(t)) continue;
            if (t.Phase is not null && !phases.Contains(t.Phase) && allPhases)
                Error(t, nameof(t.Phase), $"threshold '{t.Expression}': no phase named '{t.Phase}'", Suggestions.DidYouMean(t.Phase, phases) ?? $"phases: {string.Join(", ", phases)}");
            if (t.Window is { } w && (w <= TimeSpan.Zero || w > _s.Run.Duration))
                Error(t, nameof(t.Window), $"threshold '{t.Expression}': the window must be between 0 and the run's duration");
            if (t.Phase is not null && t.Window is not null) Error(t, nameof(t.Window), "a threshold takes a phase or a window, not both");
            Figure(t);
        }
    }

    private void Figure(Threshold t)
    {
        var e = t.Expression;
        void Fail(string message, string? suggestion = null) => Error(t, nameof(t.Expression), $"threshold '{e}': {message}", suggestion);
        var written = FigureCatalog.Canonical(e.FigurePath);
        var figure = FigureCatalog.Find(written);
        if (figure is null)
        {
            Unknown(e, written, Fail);
            return;
        }
        foreach (var segment in e.Figure)
            if (segment.Selector is { } selector && selector != "*" && FigureCatalog.Lists.TryGetValue(segment.Name, out var list))
                Item(list.Items, segment.Name, selector, Fail);
        if ((t.Phase is not null || t.Window is not null) && !figure.Windowed)
            Fail($"'{figure.Name}' is a whole-run figure; over a phase or a window only these are computed: {string.Join(", ", WindowedRoots())}",
                "drop the phase or window, or pick one of those");
        var kind = _s.Target.Kind;
        if (figure.LiveOnly && kind == TargetKind.Embedded)
            Fail($"'{figure.Name}' is measured on live runs only (the harness's calls to Rucio); the embedded lake has no API");
        if (figure.NeedsPods && kind == TargetKind.Rucio && _s.Target.Kubernetes is null)
            Fail($"'{figure.Name}' comes from the pods, and this live run observes none", "add target.kubernetes (namespaces, release) so the pods are watched");
        Value(e, figure, Fail);
    }

    private static IEnumerable<string> WindowedRoots() =>
        FigureCatalog.All.Where(f => f.Windowed).Select(f => f.Name.Split('.', '[')[0] + (f.Name.Contains('[') ? "[..]" : "") + ".*").Distinct();

    /// <summary>Says what is wrong with a path the catalogue does not have: a list without its selector, a group, or a misspelling.</summary>
    private static void Unknown(ThresholdExpression e, string written, Action<string, string?> fail)
    {
        var first = e.Figure[0];
        if (FigureCatalog.Lists.ContainsKey(first.Name) && first.Selector is null)
        {
            var rest = string.Join('.', e.Figure.Skip(1));
            fail($"'{first.Name}' is a list: write {first.Name}[*]{(rest.Length > 0 ? "." + rest : "")} for every item or {first.Name}[{Example(first.Name)}] for one", null);
            return;
        }
        if (!FigureCatalog.Lists.ContainsKey(first.Name) && first.Selector is not null)
        {
            var without = string.Join('.', e.Figure.Select((s, i) => i == 0 ? s.Name : s.ToString()));
            fail($"'{first.Name}' is not a list; drop the [{first.Selector}]", FigureCatalog.Find(without) is not null ? $"write {without}" : null);
            return;
        }
        var generic = FigureCatalog.Generic(written);
        var below = FigureCatalog.All.Where(f => f.Name.StartsWith(generic + ".", StringComparison.Ordinal)).Select(f => f.Name).ToList();
        if (below.Count > 0)
        {
            fail($"'{written}' is a group, not a number", $"pick one of {string.Join(", ", below.Take(8))}");
            return;
        }
        var suggestion = FigureCatalog.DidYouMean(written);
        fail($"unknown figure '{e.FigurePath}'", suggestion is not null
            ? $"did you mean '{suggestion}'?"
            : $"close figures: {string.Join(", ", FigureCatalog.Closest(written))} (every figure: src/FdrHarness.Decisions/README.md)");
    }

    private static string Example(string list) => list switch
    {
        "links" => "SRC->DST", "rses" => "RSE", "experiments" => "SCOPE", "faults" => "NAME", "api_latency" => "OPERATION", _ => "NAME",
    };

    /// <summary>A [name] selector must name something this scenario has.</summary>
    private void Item(ItemKind kind, string list, string selector, Action<string, string?> fail)
    {
        void Missing(string what, IReadOnlyCollection<string> names) =>
            fail($"{list}[{selector}]: no {what} named '{selector}'", Suggestions.DidYouMean(selector, names) ?? (names.Count > 0 ? $"{what}s: {string.Join(", ", names.Take(12))}{(names.Count > 12 ? ", …" : "")}" : null));
        switch (kind)
        {
            case ItemKind.Link:
                var arrow = selector.IndexOf("->", StringComparison.Ordinal);
                if (arrow <= 0 || arrow + 2 >= selector.Length)
                {
                    fail($"links[{selector}]: a link is written SOURCE->DESTINATION, e.g. links[{_s.Rses.FirstOrDefault()?.Name ?? "A"}->{_s.Rses.Skip(1).FirstOrDefault()?.Name ?? "B"}]", null);
                    return;
                }
                foreach (var rse in new[] { selector[..arrow].Trim(), selector[(arrow + 2)..].Trim() })
                    if (!_rseNames.Contains(rse))
                        fail($"links[{selector}]: no RSE named '{rse}'", Suggestions.DidYouMean(rse, _rseNames) ?? $"RSEs: {string.Join(", ", _rseNames.Order(StringComparer.Ordinal).Take(12))}");
                break;
            case ItemKind.Rse:
                if (!_rseNames.Contains(selector)) Missing("RSE", _rseNames);
                break;
            case ItemKind.Daemon:
                var declared = _s.Daemons.Select(d => d.Name).ToList();
                if (!declared.Contains(selector) && !RucioDaemons.IsKnown(selector)) Missing("daemon", declared.Count > 0 ? declared : RucioDaemons.All.ToList());
                break;
            case ItemKind.Scope:
                var scopes = _s.Experiments.Select(x => x.EffectiveScope).Concat(_s.Workload.OfType<NoisePhase>().Select(n => n.Scope)).Distinct().ToList();
                if (!scopes.Contains(selector, StringComparer.OrdinalIgnoreCase))
                {
                    var experiment = _s.Experiments.FirstOrDefault(x => string.Equals(x.Name, selector, StringComparison.OrdinalIgnoreCase));
                    if (experiment is not null) fail($"experiments[{selector}]: experiments are named by their scope", $"write experiments[{experiment.EffectiveScope}]");
                    else Missing("scope", scopes);
                }
                break;
            case ItemKind.Fault:
                var names = _s.Chaos.Select(FaultName).Distinct().ToList();
                if (!names.Contains(selector)) Missing("chaos action", names);
                break;
        }
    }

    /// <summary>The name a chaos action's faults carry in the report: its name, else its kind.</summary>
    public static string FaultName(ChaosAction action) => action.Name ?? action switch
    {
        PodKill => "pod-kill", LimitChange => "limit-change", RseOutage => "rse-outage", LinkDegradation => "link-degradation",
        _ => action.GetType().Name.ToLowerInvariant(),
    };

    private enum ValueKind { Number, Percentage, Rate, Duration, Size }

    /// <summary>How the value was written, in the order ThresholdExpression reads it.</summary>
    private static ValueKind KindOf(string text)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return ValueKind.Number;
        if (text.EndsWith('%')) return ValueKind.Percentage;
        if (text.EndsWith("/s", StringComparison.Ordinal)) return ValueKind.Rate;
        return Durations.TryParse(text, out _, out _) ? ValueKind.Duration : ValueKind.Size;
    }

    /// <summary>The value must be in the figure's unit: a CPU of "700m" is 700 minutes to the parser, a ratio of 90 is 9000 %.</summary>
    private static void Value(ThresholdExpression e, FigureInfo figure, Action<string, string?> fail)
    {
        var kind = KindOf(e.ValueText);
        var v = e.Value.ToString("0.######", CultureInfo.InvariantCulture);
        switch (figure.Unit)
        {
            case FigureUnit.Ratio when kind == ValueKind.Number && Math.Abs(e.Value) > 1.5:
                fail($"'{figure.Name}' is a ratio (1 = 100 %); {e.ValueText} would mean {e.Value * 100:0.#} %", $"write {v}%");
                break;
            case FigureUnit.Ratio when kind is not (ValueKind.Number or ValueKind.Percentage):
                fail($"'{figure.Name}' is a ratio; '{e.ValueText}' is a {kind.ToString().ToLowerInvariant()}", "write a percentage such as 90%");
                break;
            case FigureUnit.Seconds when kind is not (ValueKind.Number or ValueKind.Duration):
                fail($"'{figure.Name}' is a duration; '{e.ValueText}' is a {kind.ToString().ToLowerInvariant()}", "write a duration such as 2h or 90s");
                break;
            case FigureUnit.Milliseconds when kind != ValueKind.Number:
                fail($"'{figure.Name}' is in milliseconds; write the number of milliseconds", kind == ValueKind.Duration ? $"{e.ValueText} is {e.Value * 1000:0.###} ms: write {e.Value * 1000:0.###}" : null);
                break;
            case FigureUnit.Bytes or FigureUnit.Memory when kind is not (ValueKind.Number or ValueKind.Size):
                fail($"'{figure.Name}' is a size; '{e.ValueText}' is a {kind.ToString().ToLowerInvariant()}", figure.Unit == FigureUnit.Memory ? "write a size such as 2Gi or 2000Mi" : "write a size such as 10 TB");
                break;
            case FigureUnit.Cores when kind != ValueKind.Number:
                fail($"'{figure.Name}' is in cores; write a number of cores", e.ValueText.EndsWith('m') ? $"for {e.ValueText} CPU write {CpuCores(e.ValueText)}" : "e.g. 0.7");
                break;
            case FigureUnit.BytesPerSecond when kind is not (ValueKind.Number or ValueKind.Rate):
                fail($"'{figure.Name}' is a rate; '{e.ValueText}' is a {kind.ToString().ToLowerInvariant()}", "write a rate such as 1.25 GB/s");
                break;
            case FigureUnit.Count or FigureUnit.FilesPerSecond or FigureUnit.Number when kind != ValueKind.Number:
                fail($"'{figure.Name}' is a plain number; '{e.ValueText}' is a {kind.ToString().ToLowerInvariant()}", null);
                break;
        }
    }

    private static string CpuCores(string text) =>
        CpuQuantity.TryParse(text, out var cpu, out _) ? (cpu.Millicores / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) : "the number of cores";
}
