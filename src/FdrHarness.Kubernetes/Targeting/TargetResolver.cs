using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Kubernetes.Targeting;

/// <summary>The pods a pod_kill looks at: namespaces, a label selector and optional pod names.</summary>
public sealed record PodTarget(IReadOnlyList<string> Namespaces, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<string> PodNames)
{
    public string LabelSelector => ChartLabels.Selector(Labels);

    public override string ToString()
    {
        var parts = new List<string>();
        if (Labels.Count > 0) parts.Add("pods " + LabelSelector);
        if (PodNames.Count > 0) parts.Add("named " + string.Join(",", PodNames));
        if (parts.Count == 0) parts.Add("all pods");
        return string.Join(" ", parts);
    }
}

/// <summary>The Deployment a limit_change patches: found by its app label, named by the chart's rule, and its container.</summary>
public sealed record DeploymentTarget(IReadOnlyList<string> Namespaces, string Daemon, string AppLabel, string ExpectedName, string Container)
{
    public string LabelSelector => $"{ChartLabels.App}={AppLabel}";
    public override string ToString() => $"Deployment {ExpectedName} ({LabelSelector}, container {Container})";
}

/// <summary>Turns a scenario's chaos selectors into what the API is asked for. Pure.</summary>
public static class TargetResolver
{
    /// <summary>The namespaces the harness may touch (target.kubernetes.namespaces); empty when not set.</summary>
    public static IReadOnlyList<string> AllowList(Scenario scenario) => scenario.Target.Kubernetes?.Namespaces ?? [];

    /// <summary>Where an action without namespaces of its own looks: the allow-list, else cluster.namespace (for the plan only; a live run refuses an empty allow-list).</summary>
    public static IReadOnlyList<string> DefaultNamespaces(Scenario scenario) =>
        AllowList(scenario) is { Count: > 0 } allowed ? allowed : [scenario.Cluster.Namespace];

    public static PodTarget Pods(PodSelector selector, Scenario scenario)
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (selector.Daemon is { } daemon)
            foreach (var (k, v) in ChartLabels.PodLabels(daemon)) labels[k] = v;
        // The scenario's own labels narrow (or override) the chart's.
        foreach (var (k, v) in selector.Labels) labels[k] = v;
        var namespaces = selector.Namespaces.Count > 0 ? selector.Namespaces : DefaultNamespaces(scenario);
        return new PodTarget([.. namespaces.Distinct(StringComparer.Ordinal)], labels, selector.Pods);
    }

    public static DeploymentTarget Deployment(LimitChange change, Scenario scenario)
    {
        var release = scenario.Target.Kubernetes?.Release ?? new KubernetesConnection().Release;
        return new DeploymentTarget(
            [.. DefaultNamespaces(scenario).Distinct(StringComparer.Ordinal)],
            change.Daemon,
            ChartLabels.DeploymentAppLabel(change.Daemon),
            ChartLabels.DeploymentName(release, change.Daemon),
            ChartLabels.ContainerName(change.Daemon));
    }

    /// <summary>The name audit entries and fault records use: the action's name, else Lake's default for its kind.</summary>
    public static string NameOf(ChaosAction action) => action.Name ?? action switch
    {
        PodKill => "pod-kill",
        LimitChange => "limit-change",
        RseOutage => "rse-outage",
        LinkDegradation => "link-degradation",
        _ => "chaos",
    };

    public static string KindOf(ChaosAction action) => action switch
    {
        PodKill => "pod_kill",
        LimitChange => "limit_change",
        RseOutage => "rse_outage",
        LinkDegradation => "link_degradation",
        _ => "chaos",
    };
}
