using System.Net;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Connection;
using FdrHarness.Kubernetes.Safety;
using FdrHarness.Kubernetes.Targeting;
using k8s;
using k8s.Models;

namespace FdrHarness.Kubernetes.Actions;

/// <summary>What one pod kill did.</summary>
public sealed record PodKillOutcome(IReadOnlyList<PodRef> Killed, IReadOnlyList<PodRef> Skipped, string? Failure)
{
    public static PodKillOutcome Failed(string why) => new([], [], why);
}

/// <summary>
/// pod_kill: lists the selected pods, chooses by mode, caps by the blast radius per Deployment, then deletes each
/// with the grace period. The Deployment's controller replaces them; the pod watch sees what follows.
/// </summary>
public sealed class PodKiller(ChaosContext context)
{
    private const string Kind = "pod_kill";

    public async Task<PodKillOutcome> KillAsync(PodKill kill, PodTarget target, string name, int occurrence, CancellationToken ct)
    {
        var audit = context.Audit;
        var scope = string.Join(",", target.Namespaces);
        try
        {
            foreach (var ns in target.Namespaces) NamespaceSafety.EnsureAllowed(ns, context.AllowList);
        }
        catch (NamespaceRefusedException e)
        {
            audit.Write("refused", Kind, name, e.Namespace, [target.ToString()], e.Message);
            return PodKillOutcome.Failed(e.Message);
        }

        List<V1Pod> candidates;
        try
        {
            candidates = await ListCandidatesAsync(target, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var why = "listing pods failed: " + ApiErrors.Describe(e);
            audit.Write("failed", Kind, name, scope, [target.ToString()], why);
            return PodKillOutcome.Failed(why);
        }
        if (candidates.Count == 0)
        {
            audit.Write("skipped", Kind, name, scope, [target.ToString()], "no running pod matches");
            return new PodKillOutcome([], [], null);
        }

        var byRef = candidates.ToDictionary(RefOf);
        var chosen = PodSelection.Choose(byRef.Keys, kill.Mode, kill.Value, context.Seed, name, occurrence);
        audit.Write("planned", Kind, name, scope, [.. chosen.Select(p => p.ToString())],
            $"mode {Planning.ChaosPlanner.ModeText(kill.Mode, kill.Value)} chose {chosen.Count} of {candidates.Count}");

        var (allowed, skipped) = await ApplyBlastRadiusAsync(chosen, byRef, candidates, name, ct).ConfigureAwait(false);

        var killed = new List<PodRef>();
        var grace = (int)Math.Clamp(kill.GracePeriod.TotalSeconds, 0, int.MaxValue);
        foreach (var pod in allowed)
        {
            ct.ThrowIfCancellationRequested();
            NamespaceSafety.EnsureAllowed(pod.Namespace, context.AllowList);
            try
            {
                await context.Client.CoreV1.DeleteNamespacedPodAsync(pod.Name, pod.Namespace, gracePeriodSeconds: grace, cancellationToken: ct).ConfigureAwait(false);
            }
            catch (Exception e) when (ApiErrors.IsStatus(e, HttpStatusCode.NotFound))
            {
                audit.Write("skipped", Kind, name, pod.Namespace, [pod.ToString()], "already gone (404)");
                skipped.Add(pod);
                continue;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                audit.Write("failed", Kind, name, pod.Namespace, [pod.ToString()], "delete failed: " + ApiErrors.Describe(e));
                skipped.Add(pod);
                continue;
            }
            killed.Add(pod);
            var v1 = byRef[pod];
            context.Sink.Lifecycle(new PodLifecycleEvent
            {
                Time = context.Now,
                Daemon = ChartLabels.DaemonOf(v1.Metadata.Labels, pod.Name),
                Pod = pod.Name,
                Node = v1.Spec?.NodeName,
                Event = "killed",
                Reason = "chaos:" + name,
                Restarts = PodFacts.Restarts(v1),
            });
        }

        if (killed.Count > 0)
        {
            audit.Write("done", Kind, name, scope, [.. killed.Select(p => p.ToString())], $"deleted with grace period {grace}s");
            var now = context.Now;
            context.Sink.Fault(new FaultRecord
            {
                Start = now,
                End = now,
                Name = name,
                Kind = Kind,
                Target = kill.Selector.Daemon ?? "pods",
                Detail = string.Join(",", killed.Select(p => p.Name)),
            });
        }
        return new PodKillOutcome(killed, skipped, null);
    }

    private async Task<List<V1Pod>> ListCandidatesAsync(PodTarget target, CancellationToken ct)
    {
        var selector = target.Labels.Count > 0 ? target.LabelSelector : null;
        var pods = new List<V1Pod>();
        foreach (var ns in target.Namespaces)
        {
            var list = await context.Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false);
            pods.AddRange(list.Items.Where(p =>
                p.Metadata.DeletionTimestamp is null
                && p.Status?.Phase is not ("Succeeded" or "Failed")
                && (target.PodNames.Count == 0 || target.PodNames.Contains(p.Metadata.Name, StringComparer.Ordinal))));
        }
        return pods;
    }

    /// <summary>Keeps, per owning Deployment, only as many kills as max_unavailable allows now; audits the rest as skipped.</summary>
    private async Task<(List<PodRef> Allowed, List<PodRef> Skipped)> ApplyBlastRadiusAsync(
        IReadOnlyList<PodRef> chosen, Dictionary<PodRef, V1Pod> byRef, List<V1Pod> candidates, string name, CancellationToken ct)
    {
        var allowed = new List<PodRef>();
        var skipped = new List<PodRef>();
        foreach (var group in chosen.GroupBy(p => (p.Namespace, Owner: PodFacts.DeploymentOf(byRef[p]))))
        {
            var (ns, owner) = group.Key;
            int desired, ready;
            string what;
            var deployment = owner is null ? null : await ReadDeploymentAsync(ns, owner, ct).ConfigureAwait(false);
            if (deployment is not null)
            {
                desired = deployment.Spec?.Replicas ?? 1;
                ready = deployment.Status?.ReadyReplicas ?? 0;
                what = $"Deployment {ns}/{owner}";
            }
            else
            {
                // No Deployment to ask: the selected pods of the same owner are the group.
                var peers = candidates.Where(p => p.Metadata.NamespaceProperty == ns && PodFacts.DeploymentOf(p) == owner).ToList();
                desired = peers.Count;
                ready = peers.Count(PodFacts.IsReady);
                what = owner is null ? $"pods without a Deployment in {ns}" : $"{ns}/{owner}";
            }
            var requested = group.ToList();
            var n = BlastRadius.Allowed(desired, ready, context.MaxUnavailable, requested.Count);
            allowed.AddRange(requested.Take(n));
            if (n < requested.Count)
            {
                var rest = requested.Skip(n).ToList();
                skipped.AddRange(rest);
                context.Audit.Write("skipped", Kind, name, ns, [.. rest.Select(p => p.ToString())],
                    $"blast radius: {what} has {ready} of {desired} ready; max_unavailable {context.MaxUnavailable:0.##} allows " +
                    $"{(int)Math.Floor(desired * context.MaxUnavailable + 1e-9)} down at once, so {n} of {requested.Count} kills go ahead");
            }
        }
        return (allowed, skipped);
    }

    private async Task<V1Deployment?> ReadDeploymentAsync(string ns, string name, CancellationToken ct)
    {
        try
        {
            return await context.Client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (Exception e) when (ApiErrors.IsStatus(e, HttpStatusCode.NotFound))
        {
            return null;
        }
    }

    private static PodRef RefOf(V1Pod pod) => new(pod.Metadata.NamespaceProperty, pod.Metadata.Name);
}

/// <summary>Facts read off a pod object.</summary>
internal static class PodFacts
{
    public static int Restarts(V1Pod pod) => pod.Status?.ContainerStatuses?.Sum(c => c.RestartCount) ?? 0;

    public static bool IsReady(V1Pod pod) =>
        pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") ?? false;

    /// <summary>The Deployment owning a pod through its ReplicaSet (name minus the pod-template-hash), or null.</summary>
    public static string? DeploymentOf(V1Pod pod)
    {
        var rs = pod.Metadata.OwnerReferences?.FirstOrDefault(o => o.Kind == "ReplicaSet" && o.Controller == true)
                 ?? pod.Metadata.OwnerReferences?.FirstOrDefault(o => o.Kind == "ReplicaSet");
        if (rs is null) return null;
        if (pod.Metadata.Labels is { } labels && labels.TryGetValue("pod-template-hash", out var hash)
            && rs.Name.EndsWith("-" + hash, StringComparison.Ordinal))
            return rs.Name[..^(hash.Length + 1)];
        var dash = rs.Name.LastIndexOf('-');
        return dash > 0 ? rs.Name[..dash] : rs.Name;
    }
}
