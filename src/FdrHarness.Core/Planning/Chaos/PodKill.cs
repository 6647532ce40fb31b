using System.Globalization;
using System.Text.Json;
using FdrHarness.Core.Chaos;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Scenarios.Model
{
    /// <summary>Chaos Mesh's modes: how many of the selected pods are hit.</summary>
    public enum SelectionMode { One, All, Fixed, FixedPercent, RandomMaxPercent }

    /// <summary>Which pods: by daemon (the Helm chart's labels), labels, namespaces or names.</summary>
    public sealed record PodSelector
    {
        [Doc("A daemon of the daemons section, e.g. judge-evaluator.")]
        public string? Daemon { get; init; }

        [Doc("Label selector (all must match).")]
        public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

        [Doc("Namespaces to look in.")]
        public IReadOnlyList<string> Namespaces { get; init; } = [];

        [Doc("Pod names.")]
        public IReadOnlyList<string> Pods { get; init; } = [];
    }

    /// <summary>When an action happens: once at a time, or every interval between two times.</summary>
    public sealed record Schedule
    {
        [Doc("Once, at this offset from the start.")]
        public TimeSpan? At { get; init; }

        [Doc("Repeatedly, with this period.")]
        public TimeSpan? Every { get; init; }

        [Doc("First repetition (default: one period after the start).")]
        public TimeSpan? From { get; init; }

        [Doc("No repetition after this time.")]
        public TimeSpan? Until { get; init; }
    }

    [UnionCase(ChaosKinds.PodKill), Doc("Delete pods; their Deployment replaces them.")]
    public sealed record PodKill : ChaosAction
    {
        [RequiredKey] public PodSelector Selector { get; init; } = new();
        public SelectionMode Mode { get; init; } = SelectionMode.One;

        [Doc("Pods for fixed; percent for fixed-percent and random-max-percent.")]
        public double? Value { get; init; }

        [RequiredKey] public Schedule Schedule { get; init; } = new();
        public TimeSpan GracePeriod { get; init; } = TimeSpan.Zero;
    }
}

namespace FdrHarness.Core.Planning
{
    using FdrHarness.Core.Scenarios.Model;

    /// <summary>pod_kill: a firing per instant of its schedule, each with its own occurrence (its own draw of pods); on the cluster live.</summary>
    public sealed class PodKillKind : ChaosKind<PodKill>
    {
        public override LiveSide Side => LiveSide.Cluster;

        protected override void Check(PodKill k, ScenarioValidator v)
        {
            var sel = k.Selector;
            if (sel.Daemon is null && sel.Labels.Count == 0 && sel.Pods.Count == 0)
                v.Error(k, nameof(k.Selector), "pod_kill: the selector selects nothing", "give daemon, labels or pods");
            if (sel.Daemon is not null) v.Daemon(sel, nameof(sel.Daemon), sel.Daemon);
            if (!v.Map.IsInvalid(sel)) CheckSelector(sel, v);
            switch (k.Mode)
            {
                case SelectionMode.Fixed when k.Value is not { } n || n < 1 || n != Math.Floor(n):
                    v.Error(k, k.Value is null ? nameof(k.Mode) : nameof(k.Value), "pod_kill: mode fixed needs value: a whole number of pods (at least 1)",
                        k.Value is null ? "add 'value: 1'" : null);
                    break;
                // Chaos Mesh reads the value as a whole number.
                case SelectionMode.FixedPercent or SelectionMode.RandomMaxPercent when k.Value is not (> 0 and <= 100) || k.Value != Math.Floor(k.Value.Value):
                    v.Error(k, k.Value is null ? nameof(k.Mode) : nameof(k.Value), $"pod_kill: mode {ModelShape.EnumName(k.Mode.ToString())} needs value: a whole percentage above 0, at most 100");
                    break;
            }
            if (!v.Map.IsInvalid(k)) CheckSchedule(k.Schedule, v);
        }

        /// <summary>Names and labels as the Kubernetes API validates them, so a malformed one never becomes a selector.</summary>
        private static void CheckSelector(PodSelector sel, ScenarioValidator v)
        {
            if (sel.Pods.Count > 0 && (sel.Daemon is not null || sel.Labels.Count > 0))
                v.Error(sel, nameof(sel.Pods), "pod_kill: pods names the pods to kill; daemon and labels beside it would be ignored, as Chaos Mesh ignores them",
                    "give pods alone, or daemon and labels without pods");
            foreach (var (key, value) in sel.Labels)
            {
                if (KubernetesNames.LabelKeyErrors(key) is { Count: > 0 } keyErrors)
                    v.ErrorAtItem(sel, nameof(sel.Labels), sel.Labels, key, $"label key '{key}' is not a Kubernetes label key: {string.Join("; ", keyErrors)}",
                        "e.g. app, rucio-daemon, app.kubernetes.io/name");
                if (KubernetesNames.LabelValueErrors(value) is { Count: > 0 } valueErrors)
                    v.ErrorAtItem(sel, nameof(sel.Labels), sel.Labels, key, $"label value '{value}' (of {key}) is not a Kubernetes label value: it {string.Join("; ", valueErrors)}");
            }
            v.KubernetesList(sel, nameof(sel.Namespaces), sel.Namespaces, "namespace", KubernetesNames.NamespaceErrors);
            v.KubernetesList(sel, nameof(sel.Pods), sel.Pods, "pod name", KubernetesNames.PodNameErrors);
        }

        private static void CheckSchedule(Schedule s, ScenarioValidator v)
        {
            if (s.At is not null && s.Every is not null)
            {
                v.Error(s, nameof(s.Every), "a schedule takes at or every, not both", "'at: 2h' for once, 'every: 30m' (with from and until) to repeat");
                return;
            }
            if (s.At is null && s.Every is null)
            {
                v.Error(s, "", "a schedule needs at or every", "e.g. 'at: 2h' or 'every: 30m'");
                return;
            }
            if (s.At is { } at) v.Within(s, nameof(s.At), at);
            if (s.Every is { } every && every <= TimeSpan.Zero) v.Error(s, nameof(s.Every), "every must be longer than 0");
            if (s.At is not null && (s.From is not null || s.Until is not null)) v.Error(s, nameof(s.From), "from and until go with every, not with at");
            if (s.From is { } f && s.Until is { } u && u < f) v.Error(s, nameof(s.Until), "until is before from");
        }

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

        protected override string Describe(PodKill k) =>
            $"pod_kill {k.Selector.Daemon ?? string.Join(",", k.Selector.Labels.Select(l => l.Key + "=" + l.Value))} " +
            $"mode {ModelShape.EnumName(k.Mode.ToString())}{(k.Value is { } v ? " " + v.ToString(CultureInfo.InvariantCulture) : "")} " +
            (k.Schedule.At is { } at ? "at " + Durations.Format(at) : "every " + Durations.Format(k.Schedule.Every ?? TimeSpan.Zero));

        protected override string When(PodKill k, TimeSpan duration)
        {
            var s = k.Schedule;
            var parts = new List<string>();
            if (s.At is { } at) parts.Add("at " + Durations.Format(at));
            if (s.Every is { } every)
                parts.Add($"every {Durations.Format(every)} from {Durations.Format(s.From ?? every)} until {Durations.Format(s.Until is { } u && u < duration ? u : duration)}");
            return parts.Count == 0 ? "never (no at or every)" : string.Join(", ", parts);
        }

        protected override string Target(PodKill k) => k.Selector.Daemon ?? "pods";
    }
}
