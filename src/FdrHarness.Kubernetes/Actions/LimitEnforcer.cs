using System.Net;
using System.Text.Json.Nodes;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Connection;
using FdrHarness.Kubernetes.Planning;
using FdrHarness.Kubernetes.Safety;
using FdrHarness.Kubernetes.Targeting;
using k8s;
using k8s.Models;

namespace FdrHarness.Kubernetes.Actions;

/// <summary>
/// limit_change: patches a Deployment container's requests and limits (strategic merge patch, guarded by the
/// resourceVersion that was read, re-read and retried on 409), waits for the rollout, and puts the original values
/// back at the end. The original values are in restore.json before the patch is sent.
/// </summary>
public sealed class LimitEnforcer(ChaosContext context)
{
    private const string Kind = ChaosKinds.LimitChange;
    private const int MaxConflictRetries = 5;

    /// <summary>Patches and waits; false (audited, not thrown) when it could not.</summary>
    public async Task<bool> ApplyAsync(LimitChange change, DeploymentTarget target, string name, CancellationToken ct)
    {
        var audit = context.Audit;
        var found = await FindDeploymentAsync(target, name, ct).ConfigureAwait(false);
        if (found is null) return false;
        var (ns, deploymentName) = found.Value;
        var targets = new[] { $"{ns}/{deploymentName}" };

        var appliedRequests = Quantities(change.Requests);
        var appliedLimits = Quantities(change.Limits);
        var settings = ChaosPlanner.ResourcesText(change.Requests, change.Limits);
        audit.Write("planned", Kind, name, ns, targets, settings);

        int? entry = null;
        string container = target.Container;
        long generation;
        var rolledOut = true;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                NamespaceSafety.EnsureAllowed(ns, context.AllowList);
                var deployment = await context.Client.AppsV1.ReadNamespacedDeploymentAsync(deploymentName, ns, cancellationToken: ct).ConfigureAwait(false);
                var c = PickContainer(deployment, target.Container);
                if (c is null)
                {
                    audit.Write("failed", Kind, name, ns, targets, $"no container to patch (looked for '{target.Container}')");
                    return false;
                }
                container = c.Name;
                var original = new RestoreEntry
                {
                    Action = name,
                    Daemon = target.Daemon,
                    Namespace = ns,
                    Deployment = deploymentName,
                    Container = container,
                    OriginalRequests = Strings(c.Resources?.Requests),
                    OriginalLimits = Strings(c.Resources?.Limits),
                    AppliedRequests = appliedRequests,
                    AppliedLimits = appliedLimits,
                };
                // Recorded before the patch is sent: a crash right after it still leaves the way back.
                if (entry is { } i) context.Restore.Update(i, _ => original);
                else entry = context.Restore.Add(original);

                var body = PatchBody(container, deployment.Metadata.ResourceVersion, WithNulls(appliedRequests), WithNulls(appliedLimits));
                try
                {
                    var patched = await context.Client.AppsV1.PatchNamespacedDeploymentAsync(
                        new V1Patch(body, V1Patch.PatchType.StrategicMergePatch), deploymentName, ns, cancellationToken: ct).ConfigureAwait(false);
                    generation = patched.Metadata.Generation ?? 0;
                    context.Restore.Update(entry.Value, e => e with { PatchedAt = context.Now });
                    break;
                }
                catch (Exception e) when (ApiErrors.IsStatus(e, HttpStatusCode.Conflict) && attempt < MaxConflictRetries)
                {
                    // Someone changed the Deployment between our read and our patch: read again, record again, retry.
                    audit.Write("retried", Kind, name, ns, targets, $"409 Conflict on attempt {attempt}: re-reading the Deployment");
                }
            }
            try
            {
                await Rollout.WaitAsync(context.Client, ns, deploymentName, generation, context.Rollout, context.Clock, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The patch is in (and will be restored): the change happened, only its rollout was not waited for.
                rolledOut = false;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            audit.Write("failed", Kind, name, ns, targets, ApiErrors.Describe(e));
            return false;
        }

        audit.Write("done", Kind, name, ns, targets, $"container {container}: {settings}; " + (rolledOut ? "rollout complete" : "the run ended before its rollout completed"));
        var now = context.Now;
        context.Sink.Fault(new FaultRecord
        {
            Start = now,
            End = now,
            Name = name,
            Kind = Kind,
            Target = target.Daemon,
            Detail = $"requests cpu={change.Requests?.Cpu} memory={change.Requests?.Memory?.ToBinaryString()}, limits cpu={change.Limits?.Cpu} memory={change.Limits?.Memory?.ToBinaryString()}",
        });
        // The change is done and counted whatever follows: a run stopped while its new pods are listed still has it.
        try
        {
            await RecordAsync(ns, deploymentName, target.Daemon, $"chaos:{name} {settings}", ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        return true;
    }

    /// <summary>Puts back every change of restore.json not restored yet, newest first (so the oldest original wins). Returns how many.</summary>
    public Task<int> RestoreAllAsync(CancellationToken ct) =>
        ChaosRestore.RestoreAsync(context.Client, context.Restore, context.Audit, context.Rollout, context.Clock, ct, context.Sink);

    private async Task<(string Namespace, string Name)?> FindDeploymentAsync(DeploymentTarget target, string name, CancellationToken ct)
    {
        var found = new List<V1Deployment>();
        try
        {
            foreach (var ns in target.Namespaces)
            {
                NamespaceSafety.EnsureAllowed(ns, context.AllowList);
                var list = await context.Client.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: target.LabelSelector, cancellationToken: ct).ConfigureAwait(false);
                found.AddRange(list.Items);
            }
        }
        catch (NamespaceRefusedException e)
        {
            context.Audit.Write("refused", Kind, name, e.Namespace, [target.ToString()], e.Message);
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            context.Audit.Write("failed", Kind, name, string.Join(",", target.Namespaces), [target.ToString()], "listing Deployments failed: " + ApiErrors.Describe(e));
            return null;
        }
        // Several releases in one namespace: the one named by the chart's rule, else the one of our release.
        var pick = found.Count == 1 ? found
            : found.Where(d => d.Metadata.Name == target.ExpectedName).ToList() is { Count: 1 } byName ? byName
            : found.Where(d => d.Metadata.Labels?.TryGetValue(ChartLabels.Release, out var r) == true && r == context.Release).ToList();
        if (pick.Count != 1)
        {
            var why = found.Count == 0
                ? $"no Deployment labelled {target.LabelSelector} in {string.Join(", ", target.Namespaces)}"
                : $"{found.Count} Deployments labelled {target.LabelSelector} ({string.Join(", ", found.Select(d => d.Metadata.Name))}) and none is {target.ExpectedName}";
            context.Audit.Write("failed", Kind, name, string.Join(",", target.Namespaces), [target.ToString()], why);
            return null;
        }
        return (pick[0].Metadata.NamespaceProperty, pick[0].Metadata.Name);
    }

    /// <summary>A limits-changed event for every pod of the Deployment once its rollout is done.</summary>
    internal static async Task RecordPodsAsync(ChaosContext context, IObservationSink sink, string ns, string deploymentName, string daemon, string reason, CancellationToken ct)
    {
        try
        {
            var d = await context.Client.AppsV1.ReadNamespacedDeploymentAsync(deploymentName, ns, cancellationToken: ct).ConfigureAwait(false);
            var labels = d.Spec?.Selector?.MatchLabels;
            if (labels is null || labels.Count == 0) return;
            var pods = await context.Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: ChartLabels.Selector(labels), cancellationToken: ct).ConfigureAwait(false);
            var now = context.Now;
            foreach (var pod in pods.Items.Where(p => p.Metadata.DeletionTimestamp is null))
                sink.Lifecycle(new PodLifecycleEvent
                {
                    Time = now,
                    Daemon = daemon,
                    Pod = pod.Metadata.Name,
                    Node = pod.Spec?.NodeName,
                    Event = LifecycleEvents.LimitsChanged,
                    Reason = reason,
                    Restarts = PodFacts.Restarts(pod),
                });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            context.Audit.Write("failed", Kind, daemon, ns, [$"{ns}/{deploymentName}"], "could not list the new pods: " + ApiErrors.Describe(e));
        }
    }

    private Task RecordAsync(string ns, string deploymentName, string daemon, string reason, CancellationToken ct) =>
        RecordPodsAsync(context, context.Sink, ns, deploymentName, daemon, reason, ct);

    private static V1Container? PickContainer(V1Deployment d, string preferred)
    {
        var containers = d.Spec?.Template?.Spec?.Containers ?? [];
        return containers.FirstOrDefault(c => c.Name == preferred) ?? (containers.Count == 1 ? containers[0] : null);
    }

    private static Dictionary<string, string> Quantities(Resources? r)
    {
        var q = new Dictionary<string, string>(StringComparer.Ordinal);
        if (r?.Cpu is { } cpu) q["cpu"] = KubeQuantities.Cpu(cpu);
        if (r?.Memory is { } memory) q["memory"] = KubeQuantities.Memory(memory);
        return q;
    }

    private static Dictionary<string, string?> WithNulls(Dictionary<string, string> values) =>
        values.ToDictionary(kv => kv.Key, kv => (string?)kv.Value, StringComparer.Ordinal);

    private static Dictionary<string, string>? Strings(IDictionary<string, ResourceQuantity>? q) =>
        q is null ? null : q.ToDictionary(kv => kv.Key, kv => kv.Value.ToString(), StringComparer.Ordinal);

    /// <summary>
    /// {"metadata":{"resourceVersion":..},"spec":{"template":{"spec":{"containers":[{"name":..,"resources":{..}}]}}}}:
    /// strategic merge keys containers by name, so the other containers and resources are left alone; a null value
    /// removes a key (used by restore for a resource that had no value before).
    /// </summary>
    internal static string PatchBody(string container, string? resourceVersion, IReadOnlyDictionary<string, string?> requests, IReadOnlyDictionary<string, string?> limits)
    {
        static JsonObject Map(IReadOnlyDictionary<string, string?> values)
        {
            var o = new JsonObject();
            foreach (var (k, v) in values) o[k] = v is null ? null : JsonValue.Create(v);
            return o;
        }
        var resources = new JsonObject();
        if (requests.Count > 0) resources["requests"] = Map(requests);
        if (limits.Count > 0) resources["limits"] = Map(limits);
        var root = new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject
                {
                    ["spec"] = new JsonObject
                    {
                        ["containers"] = new JsonArray(new JsonObject { ["name"] = container, ["resources"] = resources }),
                    },
                },
            },
        };
        if (resourceVersion is not null) root["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion };
        return root.ToJsonString();
    }
}
