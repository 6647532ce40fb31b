using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Core.Chaos;

/// <summary>
/// Which pods a pod_kill's selector selects, as Chaos Mesh reads a selector: in one of <see cref="Namespaces"/>, and
/// either named in <see cref="Pods"/> (then nothing else is looked at) or carrying every label of
/// <see cref="Labels"/> (a daemon's chart labels and the scenario's labels, as a Kubernetes matchLabels).
/// Pure: the embedded lake and the live cluster ask the same question of their pods.
/// </summary>
public sealed class PodMatcher
{
    private PodMatcher(IReadOnlyList<string> namespaces, IReadOnlyList<KeyValuePair<string, string>> labels, IReadOnlyList<string> pods)
    {
        Namespaces = namespaces;
        Labels = labels;
        Pods = pods;
    }

    /// <summary>Distinct, in the scenario's order.</summary>
    public IReadOnlyList<string> Namespaces { get; }

    /// <summary>Every label a pod must carry, ordered by key then value; empty when <see cref="Pods"/> names the pods.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Labels { get; }

    /// <summary>Pod names; when given, the selector is these pods of <see cref="Namespaces"/> and nothing else.</summary>
    public IReadOnlyList<string> Pods { get; }

    /// <summary>"a=b,c=d", the labelSelector query parameter that lists the candidates; null when the pods are named.</summary>
    public string? LabelSelector => Labels.Count == 0 ? null : string.Join(",", Labels.Select(l => $"{l.Key}={l.Value}"));

    /// <exception cref="ArgumentException">A label key or value Kubernetes would refuse (the scenario validator refuses it first).</exception>
    public static PodMatcher For(PodSelector selector, Scenario scenario) => For(selector, DefaultNamespaces(scenario));

    /// <param name="defaultNamespaces">Where a selector without namespaces of its own looks.</param>
    /// <exception cref="ArgumentException">A label key or value Kubernetes would refuse.</exception>
    public static PodMatcher For(PodSelector selector, IReadOnlyList<string> defaultNamespaces)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var namespaces = (selector.Namespaces.Count > 0 ? selector.Namespaces : defaultNamespaces).Distinct(StringComparer.Ordinal).ToList();
        if (selector.Pods.Count > 0)
            return new PodMatcher(namespaces, [], [.. selector.Pods.Distinct(StringComparer.Ordinal)]);

        var labels = new SortedSet<KeyValuePair<string, string>>(Comparer<KeyValuePair<string, string>>.Create((a, b) =>
            string.CompareOrdinal(a.Key, b.Key) is var byKey and not 0 ? byKey : string.CompareOrdinal(a.Value, b.Value)));
        if (selector.Daemon is { } daemon) labels.UnionWith(ChartLabels.DaemonSelector(daemon));
        foreach (var (key, value) in selector.Labels)
        {
            // Never let a malformed key or value into a selector string: `a!` = `b` would read as `a != b`.
            if (KubernetesNames.LabelKeyErrors(key) is { Count: > 0 } keyErrors)
                throw new ArgumentException($"label key '{key}': {string.Join("; ", keyErrors)}", nameof(selector));
            if (KubernetesNames.LabelValueErrors(value) is { Count: > 0 } valueErrors)
                throw new ArgumentException($"label value '{value}' of '{key}': {string.Join("; ", valueErrors)}", nameof(selector));
            labels.Add(new(key, value));
        }
        return new PodMatcher(namespaces, [.. labels], []);
    }

    /// <summary>
    /// Where the Rucio pods are when an action names no namespace: target.kubernetes.namespaces, else
    /// cluster.namespace. The embedded lake runs its pods in the first of these.
    /// </summary>
    public static IReadOnlyList<string> DefaultNamespaces(Scenario scenario) =>
        scenario.Target.Kubernetes?.Namespaces is { Count: > 0 } allowed ? allowed : [scenario.Cluster.Namespace];

    public bool Matches(string @namespace, string name, IReadOnlyDictionary<string, string>? labels)
    {
        if (!Namespaces.Contains(@namespace, StringComparer.Ordinal)) return false;
        if (Pods.Count > 0) return Names(name);
        foreach (var (key, value) in Labels)
            if (labels is null || !labels.TryGetValue(key, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
                return false;
        return true;
    }

    /// <summary>True when the selector names this pod in <see cref="Pods"/>.</summary>
    public bool Names(string podName) => Pods.Contains(podName, StringComparer.Ordinal);

    /// <summary>"pods a=b,c=d" or "named x,y", for the plan and the audit.</summary>
    public override string ToString() =>
        Pods.Count > 0 ? "named " + string.Join(",", Pods)
        : LabelSelector is { } selector ? "pods " + selector
        : "all pods";
}
