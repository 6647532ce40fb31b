using System.Collections.Concurrent;
using FdrHarness.Kubernetes.Targeting;
using k8s.Models;

namespace FdrHarness.Kubernetes.Observation;

/// <summary>The pods the watch knows now, for the sampler: one list kept current, not one per interval.</summary>
public sealed class PodInventory
{
    private readonly ConcurrentDictionary<PodRef, V1Pod> _pods = new();

    public IReadOnlyList<V1Pod> Pods() =>
        [.. _pods.OrderBy(kv => kv.Key.Namespace, StringComparer.Ordinal).ThenBy(kv => kv.Key.Name, StringComparer.Ordinal).Select(kv => kv.Value)];

    internal void Set(V1Pod pod) => _pods[Key(pod)] = pod;
    internal void Remove(PodRef pod) => _pods.TryRemove(pod, out _);

    internal IEnumerable<PodRef> In(string ns) => _pods.Keys.Where(k => k.Namespace == ns);

    internal static PodRef Key(V1Pod pod) => new(pod.Metadata.NamespaceProperty ?? "", pod.Metadata.Name);
}
