using System.Text.Json;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model
{
    [UnionCase(ChaosKinds.LinkDegradation), Doc("Slow down or break the links between two RSE sets for a while.")]
    public sealed record LinkDegradation : ChaosAction
    {
        [RequiredKey] public RseExpression Source { get; init; } = null!;
        [RequiredKey] public RseExpression Destination { get; init; } = null!;
        [RequiredKey] public TimeSpan From { get; init; }
        [RequiredKey] public TimeSpan During { get; init; }

        [Doc("Multiplies the links' bandwidth, 0 to 1.")]
        public double BandwidthFactor { get; init; } = 1.0;

        [Doc("Failure probability while degraded.")]
        public double? FailureProbability { get; init; }
    }
}

namespace FdrHarness.Core.Planning
{
    using FdrHarness.Core.Scenarios.Model;

    /// <summary>link_degradation: a begin firing and, when within the run, an end one; the embedded lake's FTS links only.</summary>
    public sealed class LinkDegradationKind : ChaosKind<LinkDegradation>
    {
        // Rucio has no API that slows a link; FTS's link settings are not the harness's to change.
        public override LiveSide Side => LiveSide.None;

        protected override string? LiveNote => "no Rucio-side action on a live target";

        protected override void Check(LinkDegradation g, ScenarioValidator v)
        {
            v.Expression(g.Source, g, nameof(g.Source));
            v.Expression(g.Destination, g, nameof(g.Destination));
            v.Within(g, nameof(g.From), g.From);
            v.Positive(g, nameof(g.During), g.During, ChaosKinds.LinkDegradation);
            v.Fraction(g, nameof(g.BandwidthFactor), g.BandwidthFactor);
            v.Probability(g, nameof(g.FailureProbability), g.FailureProbability);
        }

        protected override IEnumerable<(TimeSpan At, int Occurrence, ChaosEdge Edge)> Firings(LinkDegradation link, TimeSpan duration) =>
            Window(link.From, link.During, duration);

        protected override void WriteFields(Utf8JsonWriter w, LinkDegradation g)
        {
            w.WriteString("source", g.Source.Text);
            w.WriteString("destination", g.Destination.Text);
            w.WriteNumber("bandwidth_factor", g.BandwidthFactor);
            if (g.FailureProbability is { } p) w.WriteNumber("failure_probability", p);
        }

        protected override string Describe(LinkDegradation g) =>
            $"link_degradation {g.Source} -> {g.Destination} from {Durations.Format(g.From)} for {Durations.Format(g.During)}";

        protected override string When(LinkDegradation g, TimeSpan duration) => WindowText(g.From, g.During);

        protected override string Target(LinkDegradation g) => $"{g.Source}->{g.Destination}";
    }
}
