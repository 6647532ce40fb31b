using FdrHarness.Core.Diagnostics;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Kubernetes.Safety;

/// <summary>
/// Which namespaces the harness may touch: only those of target.kubernetes.namespaces, never kube-system.
/// <see cref="Check"/> runs before anything is contacted; <see cref="EnsureAllowed"/> guards every call that changes something.
/// </summary>
public static class NamespaceSafety
{
    public const string KubeSystem = "kube-system";

    /// <summary>Every reason the scenario may not run against a cluster, one diagnostic each; empty when it may.</summary>
    public static IReadOnlyList<Diagnostic> Check(Scenario scenario, SourceMap? map = null)
    {
        var bag = new DiagnosticBag();
        var k8s = scenario.Target.Kubernetes;
        SourceLocation At(object? owner, string property) =>
            map is null || owner is null ? new SourceLocation(map?.File ?? "scenario", 0, 0) : map.Locate(owner, property);

        var allowed = k8s?.Namespaces ?? [];
        if (allowed.Count == 0)
            bag.Add(At((object?)k8s ?? scenario.Target, "namespaces"),
                "a live cluster needs target.kubernetes.namespaces: the namespaces the harness may touch",
                "e.g. namespaces: [rucio]; kube-system is never allowed");
        foreach (var ns in allowed.Where(IsKubeSystem))
            bag.Add(At(k8s, "namespaces"), $"namespace '{ns}' is always refused: the harness never touches {KubeSystem}");
        if (k8s is not null && !(k8s.MaxUnavailable > 0 && k8s.MaxUnavailable <= 1))
            bag.Add(At(k8s, "max_unavailable"), $"max_unavailable {k8s.MaxUnavailable} must be above 0 and at most 1 (a share of a Deployment's ready pods)");

        for (var i = 0; i < scenario.Chaos.Count; i++)
        {
            if (scenario.Chaos[i] is not PodKill kill) continue;
            foreach (var ns in kill.Selector.Namespaces)
            {
                if (IsKubeSystem(ns))
                    bag.Add(At(kill.Selector, "namespaces"), $"chaos[{i}] ({kill.Name ?? ChaosKinds.PodKill}): namespace '{ns}' is always refused: the harness never touches {KubeSystem}");
                else if (allowed.Count > 0 && !allowed.Contains(ns, StringComparer.Ordinal))
                    bag.Add(At(kill.Selector, "namespaces"),
                        $"chaos[{i}] ({kill.Name ?? ChaosKinds.PodKill}): namespace '{ns}' is not in target.kubernetes.namespaces ({string.Join(", ", allowed)})",
                        Suggestions.DidYouMean(ns, allowed) ?? $"add it to target.kubernetes.namespaces if the harness may touch it");
            }
        }
        return bag.Sorted();
    }

    /// <summary>Throws unless <paramref name="namespace"/> is allowed; called right before any change.</summary>
    /// <exception cref="NamespaceRefusedException"/>
    public static void EnsureAllowed(string @namespace, IReadOnlyCollection<string> allowList)
    {
        if (IsKubeSystem(@namespace))
            throw new NamespaceRefusedException(@namespace, $"namespace {@namespace} is always refused");
        if (!allowList.Contains(@namespace, StringComparer.Ordinal))
            throw new NamespaceRefusedException(@namespace, $"namespace {@namespace} is not in target.kubernetes.namespaces ({string.Join(", ", allowList)})");
    }

    private static bool IsKubeSystem(string ns) => string.Equals(ns.Trim(), KubeSystem, StringComparison.OrdinalIgnoreCase);
}

/// <summary>A namespace the harness may not touch; thrown before the request is sent.</summary>
public sealed class NamespaceRefusedException(string @namespace, string message) : Exception(message)
{
    public string Namespace { get; } = @namespace;
}

/// <summary>The scenario may not run against the cluster; <see cref="Diagnostics"/> says every reason.</summary>
public sealed class ClusterSafetyException(IReadOnlyList<Diagnostic> diagnostics)
    : Exception("refused before touching the cluster: " + string.Join("; ", diagnostics.Select(d => d.Message)))
{
    public IReadOnlyList<Diagnostic> Diagnostics { get; } = diagnostics;
}
