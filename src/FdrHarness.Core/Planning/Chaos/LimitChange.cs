using System.Text.Json;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model
{
    [UnionCase(ChaosKinds.LimitChange), Doc("Change a daemon's requests or limits at a time (a rolling restart).")]
    public sealed record LimitChange : ChaosAction
    {
        [RequiredKey] public string Daemon { get; init; } = "";
        [RequiredKey] public TimeSpan At { get; init; }
        public Resources? Limits { get; init; }
        public Resources? Requests { get; init; }
    }
}

namespace FdrHarness.Core.Planning
{
    using FdrHarness.Core.Scenarios.Model;

    /// <summary>limit_change: one firing at its instant; on the cluster live (the Deployment patched, then rolled).</summary>
    public sealed class LimitChangeKind : ChaosKind<LimitChange>
    {
        public override LiveSide Side => LiveSide.Cluster;

        protected override void Check(LimitChange l, ScenarioValidator v)
        {
            v.Daemon(l, nameof(l.Daemon), l.Daemon);
            v.Within(l, nameof(l.At), l.At);
            if (l.Limits is null && l.Requests is null) v.Error(l, "", "limit_change changes nothing", "give limits or requests");
        }

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

        protected override string Describe(LimitChange l) =>
            $"limit_change {l.Daemon} at {Durations.Format(l.At)}: limits {l.Limits?.Cpu} {l.Limits?.Memory?.ToBinaryString()}";

        protected override string When(LimitChange l, TimeSpan duration) => "at " + Durations.Format(l.At);

        protected override string Target(LimitChange l) => l.Daemon;
    }
}
