using System.Text.Json;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Planning;

/// <summary>rse_outage: a begin firing and, when within the run, an end one.</summary>
public sealed class RseOutagePlanning : ChaosPlanning<RseOutage>
{
    protected override IEnumerable<(TimeSpan At, int Occurrence, ChaosEdge Edge)> Firings(RseOutage outage, TimeSpan duration) =>
        Window(outage.From, outage.During, duration);

    protected override void WriteFields(Utf8JsonWriter w, RseOutage o)
    {
        w.WriteString("rse", o.Rse);
        w.WriteString("unavailable", string.Join(",", o.Unavailable).ToLowerInvariant());
    }

    // The live target sets Rucio's own RSE availability, recorded before and restored after (Rucio's PlanExecutor).
    public override (bool Applied, string? Note) Live(Scenario scenario) => (true, "Rucio's RSE availability, restored after");

    protected override string Describe(RseOutage r) =>
        $"rse_outage {r.Rse} ({string.Join("/", r.Unavailable).ToLowerInvariant()}) from {Durations.Format(r.From)} for {Durations.Format(r.During)}";
}
