using FdrHarness.Core.Chaos;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Kubernetes.Targeting;

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
    public static IReadOnlyList<string> DefaultNamespaces(Scenario scenario) => PodMatcher.DefaultNamespaces(scenario);

    /// <summary>The pods a pod_kill's selector selects (the same matcher as the embedded lake's).</summary>
    public static PodMatcher Pods(PodSelector selector, Scenario scenario) => PodMatcher.For(selector, scenario);

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

    public static string KindOf(ChaosAction action) => DefaultNames.KindOf(action);
}
