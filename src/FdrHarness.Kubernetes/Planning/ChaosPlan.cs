using System.Globalization;
using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;
using FdrHarness.Kubernetes.Safety;
using FdrHarness.Kubernetes.Targeting;

namespace FdrHarness.Kubernetes.Planning;

/// <summary>One chaos action of the scenario as the live target would carry it out.</summary>
public sealed record PlannedAction
{
    public int Index { get; init; }
    public string Kind { get; init; } = "";
    public string Name { get; init; } = "";
    /// <summary>When, in words: "at 2h30m", "every 2h from 2h until 24h".</summary>
    public string When { get; init; } = "";
    /// <summary>The first times it happens (offsets from the start), at most the plan's cap.</summary>
    public IReadOnlyList<TimeSpan> Times { get; init; } = [];
    /// <summary>How many times it happens within the run, listed or not.</summary>
    public int Occurrences { get; init; }
    public IReadOnlyList<string> Namespaces { get; init; } = [];
    /// <summary>The pods' selector or the Deployment; null for an action that is not a cluster action.</summary>
    public string? Target { get; init; }
    /// <summary>"all", "fixed-percent 50", ...; pod kills only.</summary>
    public string? Mode { get; init; }
    /// <summary>Grace period of a kill, or the requests and limits a limit change sets.</summary>
    public string? Settings { get; init; }
    public bool IsClusterAction { get; init; } = true;
    public string? Note { get; init; }
}

/// <summary>Every chaos action of a scenario on a live cluster, and the reasons the run would be refused.</summary>
public sealed record ChaosPlan(IReadOnlyList<PlannedAction> Actions, IReadOnlyList<string> AllowList, IReadOnlyList<Diagnostic> Refusals, TimeSpan Duration)
{
    /// <summary>target.kubernetes.owner_kinds: whose pods a kill may take.</summary>
    public IReadOnlyList<string> OwnerKinds { get; init; } = new KubernetesConnection().OwnerKinds;
}

/// <summary>The dry-run plan: a pure function of the scenario, no network.</summary>
public static class ChaosPlanner
{
    public const int DefaultTimesListed = 12;
    public const string NotClusterAction = "not a cluster action: not applied on a live target";

    public static ChaosPlan Build(Scenario scenario, SourceMap? map = null, int timesListed = DefaultTimesListed) =>
        Build(RunPlan.Create(scenario), map, timesListed);

    // One line per cluster chaos kind (ChaosKind.Side is LiveSide.Cluster): what its dry run shows beside the kind's
    // own when and firings. Adding one is its line here (and in ChaosExecutor's table).
    internal static readonly IReadOnlyDictionary<Type, Func<PlannedAction, ChaosAction, Scenario, PlannedAction>> Planners =
        new Dictionary<Type, Func<PlannedAction, ChaosAction, Scenario, PlannedAction>>
        {
            [typeof(PodKill)] = (planned, action, scenario) => Kill(planned, (PodKill)action, scenario),
            [typeof(LimitChange)] = (planned, action, scenario) => Change(planned, (LimitChange)action, scenario),
        };

    public static ChaosPlan Build(RunPlan runPlan, SourceMap? map = null, int timesListed = DefaultTimesListed)
    {
        var scenario = runPlan.Scenario;
        var duration = scenario.Run.Duration;
        var actions = new List<PlannedAction>();
        for (var i = 0; i < scenario.Chaos.Count; i++)
        {
            var action = scenario.Chaos[i];
            var kind = ChaosKind.For(action);
            var planned = new PlannedAction { Index = i, Kind = TargetResolver.KindOf(action), Name = action.Name!, When = kind.When(action, duration) };
            if (kind.Side == LiveSide.Cluster)
            {
                var all = runPlan.ChaosFirings.Where(f => f.Action == i).Select(f => f.At).ToList();
                planned = Planners[action.GetType()](planned with { Times = [.. all.Take(timesListed)], Occurrences = all.Count }, action, scenario);
            }
            else
                planned = planned with { IsClusterAction = false, Note = NotClusterAction, Target = kind.Target(action) };
            actions.Add(planned);
        }
        return new ChaosPlan(actions, TargetResolver.AllowList(scenario), NamespaceSafety.Check(scenario, map), duration)
        {
            OwnerKinds = scenario.Target.Kubernetes?.OwnerKinds ?? new KubernetesConnection().OwnerKinds,
        };
    }

    private static PlannedAction Kill(PlannedAction planned, PodKill kill, Scenario scenario)
    {
        var target = TargetResolver.Pods(kill.Selector, scenario);
        return planned with
        {
            Namespaces = target.Namespaces,
            Target = target.ToString(),
            Mode = ModeText(kill.Mode, kill.Value),
            Settings = $"grace period {(long)kill.GracePeriod.TotalSeconds}s",
        };
    }

    private static PlannedAction Change(PlannedAction planned, LimitChange change, Scenario scenario)
    {
        var target = TargetResolver.Deployment(change, scenario);
        return planned with
        {
            Namespaces = target.Namespaces,
            Target = target.ToString(),
            Settings = ResourcesText(change.Requests, change.Limits) + "; restored at the end",
        };
    }

    public static string ModeText(SelectionMode mode, double? value) => mode switch
    {
        SelectionMode.One => "one",
        SelectionMode.All => "all",
        SelectionMode.Fixed => $"fixed {Number(value ?? 1)}",
        SelectionMode.FixedPercent => $"fixed-percent {Number(value ?? 100)}%",
        SelectionMode.RandomMaxPercent => $"random-max-percent {Number(value ?? 100)}%",
        _ => mode.ToString(),
    };

    /// <summary>"requests cpu=4 memory=2500Mi, limits memory=3Gi", only what is set.</summary>
    public static string ResourcesText(Resources? requests, Resources? limits)
    {
        static string? One(string what, Resources? r)
        {
            if (r is null || (r.Cpu is null && r.Memory is null)) return null;
            var parts = new List<string>();
            if (r.Cpu is { } cpu) parts.Add($"cpu={cpu}");
            if (r.Memory is { } memory) parts.Add($"memory={Actions.KubeQuantities.Memory(memory)}");
            return $"{what} {string.Join(" ", parts)}";
        }
        var text = string.Join(", ", new[] { One("requests", requests), One("limits", limits) }.Where(s => s is not null));
        return text.Length == 0 ? "no change" : text;
    }

    private static string Number(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
}

/// <summary>The plan as lines for the terminal (`fdr run --dry-run`).</summary>
public static class ChaosPlanText
{
    public static IReadOnlyList<string> Render(ChaosPlan plan)
    {
        var lines = new List<string>();
        var cluster = plan.Actions.Count(a => a.IsClusterAction);
        lines.Add($"Chaos plan (dry run, nothing is touched): {plan.Actions.Count} action(s), {cluster} on the cluster, " +
                  $"{plan.Actions.Where(a => a.IsClusterAction).Sum(a => a.Occurrences)} occurrence(s) in {Durations.Format(plan.Duration)}");
        lines.Add(plan.AllowList.Count > 0
            ? $"  namespaces allowed: {string.Join(", ", plan.AllowList)} (kube-system never)"
            : "  namespaces allowed: none set (target.kubernetes.namespaces); a live run would be refused");
        if (plan.Actions.Any(a => a.Kind == ChaosKinds.PodKill))
            lines.Add($"  pods killed: those of a {string.Join(", ", plan.OwnerKinds)} (owner_kinds), max_unavailable counted per owner; any other pod only when named in pods");
        foreach (var a in plan.Actions)
        {
            var head = $"  [{a.Index}] {a.Kind} '{a.Name}' {a.When}";
            if (!a.IsClusterAction)
            {
                lines.Add($"{head} on {a.Target}: {a.Note}");
                continue;
            }
            lines.Add(head);
            lines.Add($"      target: {a.Target} in {string.Join(", ", a.Namespaces)}" + (a.Mode is null ? "" : $", mode {a.Mode}"));
            if (a.Settings is not null) lines.Add($"      sets: {a.Settings}");
            if (a.Occurrences == 0)
                lines.Add("      times: none within the run");
            else if (a.Occurrences > 1 || a.Times.Count != 1)
            {
                var shown = string.Join(", ", a.Times.Select(Durations.Format));
                var more = a.Occurrences - a.Times.Count;
                lines.Add($"      times ({a.Occurrences}): {shown}{(more > 0 ? $", … and {more} more" : "")}");
            }
        }
        foreach (var refusal in plan.Refusals)
            lines.Add($"  refused on a live cluster: {refusal}");
        return lines;
    }
}
