using System.Text.Json;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Planning;

/// <summary>link_degradation: a begin firing and, when within the run, an end one.</summary>
public sealed class LinkDegradationPlanning : ChaosPlanning<LinkDegradation>
{
    protected override IEnumerable<(TimeSpan At, int Occurrence, ChaosEdge Edge)> Firings(LinkDegradation link, TimeSpan duration) =>
        Window(link.From, link.During, duration);

    protected override void WriteFields(Utf8JsonWriter w, LinkDegradation g)
    {
        w.WriteString("source", g.Source.Text);
        w.WriteString("destination", g.Destination.Text);
        w.WriteNumber("bandwidth_factor", g.BandwidthFactor);
        if (g.FailureProbability is { } p) w.WriteNumber("failure_probability", p);
    }

    public override (bool Applied, string? Note) Live(Scenario scenario) => (false, "no Rucio-side action on a live target");

    protected override string Describe(LinkDegradation g) =>
        $"link_degradation {g.Source} -> {g.Destination} from {Durations.Format(g.From)} for {Durations.Format(g.During)}";
}
