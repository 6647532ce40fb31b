using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios;

/// <summary>
/// The one place where unnamed phases and chaos actions get their names: the kind and its position among its kind
/// (inject-1, replicate-2, pod-kill-1). Thresholds, reports, fault records, audit lines and the plan's random streams
/// all use these names, so two unnamed pod kills never share a stream.
/// </summary>
public static class DefaultNames
{
    /// <summary>inject, replicate, qos-transition, delete, noise.</summary>
    public static string KindOf(Phase phase) => Tag(phase.GetType());

    /// <summary>pod_kill, limit_change, rse_outage, link_degradation (the scenario's keys).</summary>
    public static string KindOf(ChaosAction action) => Tag(action.GetType()).Replace('-', '_');

    /// <summary>The scenario with every phase and chaos action named; names already given are kept.</summary>
    public static Scenario Apply(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (scenario.Workload.All(p => p.Name is not null) && scenario.Chaos.All(c => c.Name is not null)) return scenario;
        return scenario with { Workload = Name(scenario.Workload, KindOf, (p, n) => p with { Name = n }), Chaos = Name(scenario.Chaos, Tag, (c, n) => c with { Name = n }) };
    }

    private static string Tag(ChaosAction action) => Tag(action.GetType());

    private static IReadOnlyList<T> Name<T>(IReadOnlyList<T> items, Func<T, string> kind, Func<T, string, T> named) where T : class
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        return items.Select(item =>
        {
            var k = kind(item);
            counts[k] = counts.GetValueOrDefault(k) + 1;
            var name = (string?)item.GetType().GetProperty("Name")!.GetValue(item);
            return name is null ? named(item, $"{k}-{counts[k]}") : item;
        }).ToList();
    }

    private static string Tag(Type t) => ((UnionCaseAttribute)Attribute.GetCustomAttribute(t, typeof(UnionCaseAttribute))!).Tag.Replace('_', '-');
}
