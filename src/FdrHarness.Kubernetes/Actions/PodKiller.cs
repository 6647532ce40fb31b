using System.Net;
using FdrHarness.Core.Chaos;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Connection;
using FdrHarness.Kubernetes.Safety;
using FdrHarness.Kubernetes.Targeting;
using k8s;
using k8s.Models;

namespace FdrHarness.Kubernetes.Actions;

/// <summary>What one pod kill did.</summary>
/// <param name="Skipped">Chosen pods not deleted: held back by the blast radius, already gone, or whose delete failed.</param>
/// <param name="Excluded">Matching pods never eligible: not of an allowed owner kind (and not named), or of an owner that could not be read.</param>
public sealed record PodKillOutcome(IReadOnlyList<PodRef> Killed, IReadOnlyList<PodRef> Skipped, string? Failure)
{
    public IReadOnlyList<PodRef> Excluded { get; init; } = [];

    public static PodKillOutcome Failed(string why) => new([], [], why);
}

/// <summary>
/// pod_kill: lists the pods the selector matches, keeps those of an allowed owner kind (or named in the selector's
/// pods), chooses among them by mode (<see cref="PodSelection"/>, drawn from <see cref="ChaosDraws.Key"/>, as the
/// embedded lake does), caps the kills per owner by the blast radius, then deletes each with the grace period.
/// The owner's controller replaces them; the pod watch sees what follows.
/// </summary>
public sealed class PodKiller(ChaosContext context)
{
    private const string Kind = ChaosKinds.PodKill;

    public async Task<PodKillOutcome> KillAsync(PodKill kill, PodMatcher target, string name, int occurrence, CancellationToken ct)
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

        List<V1Pod> listed;
        try
        {
            listed = await ListAsync(target, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var why = "listing pods failed: " + ApiErrors.Describe(e);
            audit.Write("failed", Kind, name, scope, [target.ToString()], why);
            return PodKillOutcome.Failed(why);
        }
        // Matched here too, not only by the server's labelSelector: the lake and the cluster select by one rule.
        // Sorted so that the same pods give the same choice whatever order the API server lists them in.
        var candidates = listed
            .Where(p => p.Metadata.DeletionTimestamp is null && p.Status?.Phase is not ("Succeeded" or "Failed")
                        && target.Matches(p.Metadata.NamespaceProperty, p.Metadata.Name, Labels(p)))
            .OrderBy(p => p.Metadata.NamespaceProperty, StringComparer.Ordinal).ThenBy(p => p.Metadata.Name, StringComparer.Ordinal)
            .ToList();
        if (candidates.Count == 0)
        {
            audit.Write("skipped", Kind, name, scope, [target.ToString()], "no running pod matches");
            return new PodKillOutcome([], [], null);
        }

        var (eligible, excluded) = await EligibleAsync(candidates, listed, target, name, scope, ct).ConfigureAwait(false);
        if (eligible.Count == 0) return new PodKillOutcome([], [], null) { Excluded = excluded };

        var chosen = PodSelection.Choose(eligible, kill.Mode, kill.Value, ChaosDraws.Key(context.Seed, name, occurrence));
        audit.Write("planned", Kind, name, scope, [.. chosen.Select(c => RefOf(c.Pod).ToString())],
            $"mode {Planning.ChaosPlanner.ModeText(kill.Mode, kill.Value)} chose {chosen.Count} of {eligible.Count}" +
            (excluded.Count > 0 ? $" ({excluded.Count} matching pod(s) not eligible)" : ""));

        var killed = new List<PodRef>();
        var skipped = new List<PodRef>();
        var groups = new List<string>();
        var grace = (int)Math.Clamp(kill.GracePeriod.TotalSeconds, 0, int.MaxValue);
        foreach (var group in chosen.GroupBy(c => c.Owner).OrderBy(g => g.Key.Kind, StringComparer.Ordinal)
                     .ThenBy(g => g.Key.Namespace, StringComparer.Ordinal).ThenBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var owner = group.Key;
            var requested = group.Select(c => c.Pod).ToList();
            var allowed = BlastRadius.Allowed(owner.Desired, owner.Ready, context.MaxUnavailable, requested.Count);
            var deleted = 0;
            foreach (var pod in requested.Take(allowed))
            {
                if (await DeleteAsync(pod, name, grace, ct).ConfigureAwait(false))
                {
                    deleted++;
                    killed.Add(RefOf(pod));
                }
                else skipped.Add(RefOf(pod));
            }
            var held = requested.Skip(allowed).Select(RefOf).ToList();
            var numbers = $"{owner}: {BlastRadius.Describe(owner.Desired, owner.Ready, context.MaxUnavailable, deleted)}";
            if (held.Count > 0)
            {
                skipped.AddRange(held);
                audit.Write("skipped", Kind, name, owner.Namespace, [.. held.Select(p => p.ToString())],
                    $"blast radius: {numbers}; {held.Count} of {requested.Count} kills held back");
            }
            if (deleted > 0) groups.Add(numbers);
        }

        if (killed.Count > 0)
        {
            audit.Write("done", Kind, name, scope, [.. killed.Select(p => p.ToString())],
                $"deleted with grace period {grace}s; {string.Join("; ", groups)}");
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
        return new PodKillOutcome(killed, skipped, null) { Excluded = excluded };
    }

    /// <summary>
    /// The candidates a kill may choose from: those whose real owner is of an allowed kind, or that the selector names.
    /// The others are audited once, with their owner, as skipped.
    /// </summary>
    private async Task<(List<(V1Pod Pod, OwnerGroup Owner)> Eligible, List<PodRef> Excluded)> EligibleAsync(
        List<V1Pod> candidates, List<V1Pod> listed, PodMatcher target, string name, string scope, CancellationToken ct)
    {
        var owners = new PodOwners(context.Client, listed);
        var eligible = new List<(V1Pod, OwnerGroup)>();
        var excluded = new List<PodRef>();
        var reasons = new List<string>();
        foreach (var pod in candidates)
        {
            var (owner, why) = await owners.ResolveAsync(pod, ct).ConfigureAwait(false);
            if (owner is not null && (context.OwnerKinds.Contains(owner.Kind, StringComparer.Ordinal) || target.Names(pod.Metadata.Name)))
            {
                eligible.Add((pod, owner));
                continue;
            }
            excluded.Add(RefOf(pod));
            reasons.Add(owner is null ? $"{RefOf(pod)}: owner unknown ({why})"
                : owner.Kind == OwnerGroup.BarePod ? $"{RefOf(pod)} is a bare pod"
                : $"{RefOf(pod)} belongs to {owner}");
        }
        if (excluded.Count > 0)
            context.Audit.Write("skipped", Kind, name, scope, [.. excluded.Select(p => p.ToString())],
                $"not killed, not owned by {string.Join(" or ", context.OwnerKinds)} (target.kubernetes.owner_kinds): {string.Join("; ", reasons)}; " +
                "a pod named in the selector's pods may be killed whatever owns it");
        return (eligible, excluded);
    }

    private async Task<bool> DeleteAsync(V1Pod pod, string name, int grace, CancellationToken ct)
    {
        var at = RefOf(pod);
        ct.ThrowIfCancellationRequested();
        NamespaceSafety.EnsureAllowed(at.Namespace, context.AllowList);
        try
        {
            await context.Client.CoreV1.DeleteNamespacedPodAsync(at.Name, at.Namespace, gracePeriodSeconds: grace, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (Exception e) when (ApiErrors.IsStatus(e, HttpStatusCode.NotFound))
        {
            context.Audit.Write("skipped", Kind, name, at.Namespace, [at.ToString()], "already gone (404)");
            return false;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            context.Audit.Write("failed", Kind, name, at.Namespace, [at.ToString()], "delete failed: " + ApiErrors.Describe(e));
            return false;
        }
        context.Sink.Lifecycle(new PodLifecycleEvent
        {
            Time = context.Now,
            Daemon = ChartLabels.DaemonOf(pod.Metadata.Labels, at.Name),
            Pod = at.Name,
            Node = pod.Spec?.NodeName,
            Event = LifecycleEvents.Killed,
            Reason = "chaos:" + name,
            Restarts = PodFacts.Restarts(pod),
        });
        return true;
    }

    /// <summary>Every pod of the target's namespaces that its label selector lists (all of them when it names pods).</summary>
    private async Task<List<V1Pod>> ListAsync(PodMatcher target, CancellationToken ct)
    {
        var pods = new List<V1Pod>();
        foreach (var ns in target.Namespaces)
        {
            var list = await context.Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: target.LabelSelector, cancellationToken: ct).ConfigureAwait(false);
            foreach (var pod in list.Items)
            {
                pod.Metadata.NamespaceProperty ??= ns;
                pods.Add(pod);
            }
        }
        return pods;
    }

    private static IReadOnlyDictionary<string, string>? Labels(V1Pod pod) =>
        pod.Metadata.Labels switch
        {
            null => null,
            IReadOnlyDictionary<string, string> ready => ready,
            var other => new Dictionary<string, string>(other, StringComparer.Ordinal),
        };

    private static PodRef RefOf(V1Pod pod) => new(pod.Metadata.NamespaceProperty, pod.Metadata.Name);
}

/// <summary>Facts read off a pod object.</summary>
internal static class PodFacts
{
    public static int Restarts(V1Pod pod) => pod.Status?.ContainerStatuses?.Sum(c => c.RestartCount) ?? 0;

    public static bool IsReady(V1Pod pod) => PodOwners.IsReady(pod);
}
