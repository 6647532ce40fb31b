using System.Text.Json;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Planning;

/// <summary>limit_change: one firing at its instant.</summary>
public sealed class LimitChangePlanning : ChaosPlanning<LimitChange>
{
    protected override IEnumerable<(TimeSpan At, int Occurrence, ChaosEdge Edge)> Firings(LimitChange change, TimeSpan duration)
    {
        if (change.At <= duration) yield return (change.At, 0, ChaosEdge.Instant);
    }

    protected override void WriteFields(Utf8JsonWriter w, LimitChange c)
    {
        w.WriteString("daemon", c.Daemon);
        Resources(w, "requests", c.Requests);
        Resources(w, "limits", c.Limits);
    }

    private static void Resources(Utf8JsonWriter w, string name, Resources? r)
    {
        if (r is null) return;
        w.WriteStartObject(name);
        if (r.Cpu is { } cpu) w.WriteString("cpu", cpu.ToString());
        if (r.Memory is { } m) w.WriteString("memory", m.ToBinaryString());
        w.WriteEndObject();
    }

    public override (bool Applied, string? Note) Live(Scenario scenario) => OnTheCluster(scenario);

    protected override string Describe(LimitChange l) =>
        $"limit_change {l.Daemon} at {Durations.Format(l.At)}: limits {l.Limits?.Cpu} {l.Limits?.Memory?.ToBinaryString()}";
}
