using FdrHarness.Core.Chaos;
using FdrHarness.Kubernetes.Connection;
using k8s;
using k8s.Models;

namespace FdrHarness.Kubernetes.Safety;

/// <summary>
/// The controller whose pods a kill is counted against: a Deployment (found through the pod's ReplicaSet), a
/// StatefulSet, a DaemonSet, a ReplicaSet no Deployment owns, another controller, or — for a pod nobody owns — the
/// pod itself, a group of one. <see cref="Desired"/> and <see cref="Ready"/> are as the controller reported them.
/// </summary>
public sealed record OwnerGroup(string Kind, string Namespace, string Name, int Desired, int Ready)
{
    /// <summary>The kind of a pod nobody owns.</summary>
    public const string BarePod = "Pod";

    public override string ToString() => Kind == BarePod ? $"bare pod {Namespace}/{Name}" : $"{Kind} {Namespace}/{Name}";
}

/// <summary>
/// Finds each pod's real owner from its ownerReferences (never from its name), reading each controller once.
/// One instance per firing, so the counts are those of the moment.
/// </summary>
internal sealed class PodOwners(IKubernetes client, IReadOnlyList<V1Pod> listed)
{
    private readonly Dictionary<(string Kind, string Ns, string Name), Task<(OwnerGroup? Group, string? Why)>> _read = [];

    /// <summary>The owner group, or null and why it could not be known (the pod is then never killed).</summary>
    public async Task<(OwnerGroup? Group, string? Why)> ResolveAsync(V1Pod pod, CancellationToken ct)
    {
        var ns = pod.Metadata.NamespaceProperty;
        var owner = ControllerOf(pod.Metadata);
        if (owner is null) return (new OwnerGroup(OwnerGroup.BarePod, ns, pod.Metadata.Name, 1, IsReady(pod) ? 1 : 0), null);
        var key = (owner.Kind, ns, owner.Name);
        if (!_read.TryGetValue(key, out var task)) _read[key] = task = ReadAsync(owner, ns, ct);
        return await task.ConfigureAwait(false);
    }

    private async Task<(OwnerGroup?, string?)> ReadAsync(V1OwnerReference owner, string ns, CancellationToken ct)
    {
        try
        {
            switch (owner.Kind)
            {
                case OwnerKinds.ReplicaSet:
                    var rs = await client.AppsV1.ReadNamespacedReplicaSetAsync(owner.Name, ns, cancellationToken: ct).ConfigureAwait(false);
                    if (ControllerOf(rs.Metadata) is { Kind: OwnerKinds.Deployment } deployment)
                    {
                        var d = await client.AppsV1.ReadNamespacedDeploymentAsync(deployment.Name, ns, cancellationToken: ct).ConfigureAwait(false);
                        return (new OwnerGroup(OwnerKinds.Deployment, ns, d.Metadata.Name, d.Spec?.Replicas ?? 1, d.Status?.ReadyReplicas ?? 0), null);
                    }
                    return (new OwnerGroup(OwnerKinds.ReplicaSet, ns, rs.Metadata.Name, rs.Spec?.Replicas ?? 1, rs.Status?.ReadyReplicas ?? 0), null);
                case OwnerKinds.StatefulSet:
                    var sts = await client.AppsV1.ReadNamespacedStatefulSetAsync(owner.Name, ns, cancellationToken: ct).ConfigureAwait(false);
                    return (new OwnerGroup(OwnerKinds.StatefulSet, ns, sts.Metadata.Name, sts.Spec?.Replicas ?? 1, sts.Status?.ReadyReplicas ?? 0), null);
                case OwnerKinds.DaemonSet:
                    var ds = await client.AppsV1.ReadNamespacedDaemonSetAsync(owner.Name, ns, cancellationToken: ct).ConfigureAwait(false);
                    return (new OwnerGroup(OwnerKinds.DaemonSet, ns, ds.Metadata.Name, ds.Status?.DesiredNumberScheduled ?? 0, ds.Status?.NumberReady ?? 0), null);
                default:
                    // A Job, an operator's custom resource, ...: the pods listed with the same owner are the group.
                    var peers = listed.Where(p => p.Metadata.NamespaceProperty == ns && ControllerOf(p.Metadata)?.Uid == owner.Uid).ToList();
                    return (new OwnerGroup(owner.Kind, ns, owner.Name, peers.Count, peers.Count(IsReady)), null);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (null, $"reading {owner.Kind} {ns}/{owner.Name} failed: {ApiErrors.Describe(e)}");
        }
    }

    /// <summary>The managing controller (controller: true), else the only owner; null when nobody owns the object.</summary>
    private static V1OwnerReference? ControllerOf(V1ObjectMeta meta) =>
        meta.OwnerReferences?.FirstOrDefault(o => o.Controller == true)
        ?? (meta.OwnerReferences is { Count: 1 } only ? only[0] : null);

    internal static bool IsReady(V1Pod pod) =>
        pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") ?? false;
}
