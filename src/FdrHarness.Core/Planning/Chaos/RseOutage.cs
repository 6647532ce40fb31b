using System.Text.Json;
using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model
{
    public enum RseOperation { Read, Write, Delete }

    [UnionCase(ChaosKinds.RseOutage), Doc("Make an RSE unavailable for some operations for a while.")]
    public sealed record RseOutage : ChaosAction
    {
        [RequiredKey] public string Rse { get; init; } = "";
        [RequiredKey] public TimeSpan From { get; init; }
        [RequiredKey] public TimeSpan During { get; init; }

        [Doc("Operations that stop working.")]
        public IReadOnlyList<RseOperation> Unavailable { get; init; } = [RseOperation.Read, RseOperation.Write, RseOperation.Delete];
    }
}

namespace FdrHarness.Core.Planning
{
    using FdrHarness.Core.Scenarios.Model;

    /// <summary>rse_outage: a begin firing and, when within the run, an end one; live, Rucio's own RSE availability.</summary>
    public sealed class RseOutageKind : ChaosKind<RseOutage>
    {
        // The live target sets Rucio's RSE availability, recorded before and restored after (Rucio's PlanExecutor).
        public override LiveSide Side => LiveSide.Rucio;

        protected override string? LiveNote => "Rucio's RSE availability, restored after";

        protected override void Check(RseOutage o, ScenarioValidator v)
        {
            if (!v.RseNames.Contains(o.Rse))
                v.Error(o, nameof(o.Rse), $"rse_outage: no RSE named '{o.Rse}'", Suggestions.DidYouMean(o.Rse, v.RseNames));
            v.Within(o, nameof(o.From), o.From);
            v.Positive(o, nameof(o.During), o.During, ChaosKinds.RseOutage);
            if (o.Unavailable.Count == 0) v.Error(o, nameof(o.Unavailable), "rse_outage makes nothing unavailable", "list read, write or delete");
        }

        protected override IEnumerable<(TimeSpan At, int Occurrence, ChaosEdge Edge)> Firings(RseOutage outage, TimeSpan duration) =>
            Window(outage.From, outage.During, duration);

        protected override void WriteFields(Utf8JsonWriter w, RseOutage o)
        {
            w.WriteString("rse", o.Rse);
            w.WriteString("unavailable", string.Join(",", o.Unavailable).ToLowerInvariant());
        }

        protected override string Describe(RseOutage r) =>
            $"rse_outage {r.Rse} ({string.Join("/", r.Unavailable).ToLowerInvariant()}) from {Durations.Format(r.From)} for {Durations.Format(r.During)}";

        protected override string When(RseOutage r, TimeSpan duration) => WindowText(r.From, r.During);

        protected override string Target(RseOutage r) => r.Rse;
    }
}
