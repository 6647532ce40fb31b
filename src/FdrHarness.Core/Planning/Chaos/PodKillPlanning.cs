using System.Globalization;
using System.Text.Json;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Planning;

/// <summary>pod_kill: a firing per instant of its schedule, each with its own occurrence (its own draw of pods).</summary>
public sealed class PodKillPlanning : ChaosPlanning<PodKill>
{
    protected override IEnumerable<(TimeSpan At, int Occurrence, ChaosEdge Edge)> Firings(PodKill kill, TimeSpan duration)
    {
        var k = 0;
        foreach (var at in RunPlan.Instants(kill.Schedule, duration)) yield return (at, k++, ChaosEdge.Instant);
    }

    protected override void WriteFields(Utf8JsonWriter w, PodKill k)
    {
        if (k.Selector.Daemon is { } d) w.WriteString("daemon", d);
        if (k.Selector.Labels.Count > 0) w.WriteString("labels", string.Join(",", k.Selector.Labels.Select(l => l.Key + "=" + l.Value)));
        if (k.Selector.Namespaces.Count > 0) w.WriteString("namespaces", string.Join(",", k.Selector.Namespaces));
        if (k.Selector.Pods.Count > 0) w.WriteString("pods", string.Join(",", k.Selector.Pods));
        w.WriteString("mode", ModelShape.EnumName(k.Mode.ToString()));
        if (k.Value is { } v) w.WriteNumber("value", v);
    }

    public override (bool Applied, string? Note) Live(Scenario scenario) => OnTheCluster(scenario);

    protected override string Describe(PodKill k) =>
        $"pod_kill {k.Selector.Daemon ?? string.Join(",", k.Selector.Labels.Select(l => l.Key + "=" + l.Value))} " +
        $"mode {ModelShape.EnumName(k.Mode.ToString())}{(k.Value is { } v ? " " + v.ToString(CultureInfo.InvariantCulture) : "")} " +
        (k.Schedule.At is { } at ? "at " + Durations.Format(at) : "every " + Durations.Format(k.Schedule.Every ?? TimeSpan.Zero));
}
