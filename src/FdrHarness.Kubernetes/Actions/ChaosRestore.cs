using System.Net;
using FdrHarness.Core.Observations;
using FdrHarness.Kubernetes.Connection;
using FdrHarness.Kubernetes.Safety;
using k8s;
using k8s.Models;

namespace FdrHarness.Kubernetes.Actions;

/// <summary>What a restore did.</summary>
public sealed record RestoreReport(int Restored, int AlreadyRestored, IReadOnlyList<string> Failures)
{
    public bool Complete => Failures.Count == 0;
}

/// <summary>
/// Puts back the resources recorded in restore.json: at the end of a run, after Ctrl-C, and from `fdr restore RUN_DIR`
/// after a crash. Idempotent: an entry already restored is left alone, and each restored entry is marked in the file.
/// </summary>
public static class ChaosRestore
{
    private const string Kind = ChaosKinds.LimitChange;
    private const int MaxConflictRetries = 5;

    /// <summary>
    /// `fdr restore RUN_DIR`: restores every change of the run directory's restore.json not restored yet, appending to
    /// its audit.jsonl. Nothing to do (and no error) when the run changed no limits.
    /// </summary>
    public static async Task<RestoreReport> RestoreRunDirectoryAsync(IKubernetes client, string runDirectory, RolloutOptions? rollout = null,
        TimeProvider? clock = null, CancellationToken ct = default)
    {
        var file = RestoreFile.Open(runDirectory);
        var already = file.Entries.Count(e => e.RestoredAt is not null);
        if (file.Entries.Count == already) return new RestoreReport(0, already, []);
        clock ??= TimeProvider.System;
        using var audit = new AuditLog(runDirectory, clock);
        var failures = new List<string>();
        var restored = await RestoreAsync(client, file, audit, rollout ?? new RolloutOptions(), clock, ct, sink: null, failures).ConfigureAwait(false);
        return new RestoreReport(restored, already, failures);
    }

    /// <summary>Restores the entries of <paramref name="file"/> not restored yet, newest first; returns how many were restored.</summary>
    internal static async Task<int> RestoreAsync(IKubernetes client, RestoreFile file, AuditLog audit, RolloutOptions rollout, TimeProvider clock,
        CancellationToken ct, IObservationSink? sink = null, List<string>? failures = null)
    {
        var restored = 0;
        var entries = file.Entries;
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var entry = entries[i];
            if (entry.RestoredAt is not null) continue;
            var target = new[] { $"{entry.Namespace}/{entry.Deployment}" };
            try
            {
                // Never touch kube-system, whatever the file says.
                if (string.Equals(entry.Namespace, NamespaceSafety.KubeSystem, StringComparison.OrdinalIgnoreCase))
                    throw new NamespaceRefusedException(entry.Namespace, "namespace kube-system is always refused");
                var generation = await PatchBackAsync(client, entry, ct).ConfigureAwait(false);
                if (generation is null)
                {
                    audit.Write("skipped", Kind, entry.Action, entry.Namespace, target, "Deployment no longer exists: nothing to restore");
                }
                else
                {
                    await Rollout.WaitAsync(client, entry.Namespace, entry.Deployment, generation.Value, rollout, clock, ct).ConfigureAwait(false);
                    audit.Write("restored", Kind, entry.Action, entry.Namespace, target,
                        $"container {entry.Container}: requests {Text(entry.OriginalRequests)}, limits {Text(entry.OriginalLimits)}");
                }
                var index = i;
                file.Update(index, e => e with { RestoredAt = clock.GetUtcNow().UtcDateTime });
                restored++;
                if (sink is not null && generation is not null)
                {
                    var context = new ChaosContext
                    {
                        Client = client, AllowList = [entry.Namespace], Audit = audit, Sink = sink, Restore = file, Clock = clock, Rollout = rollout,
                    };
                    await LimitEnforcer.RecordPodsAsync(context, sink, entry.Namespace, entry.Deployment, entry.Daemon,
                        $"restored after chaos:{entry.Action}", ct).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var why = ApiErrors.Describe(e);
                audit.Write("failed", Kind, entry.Action, entry.Namespace, target, "restore failed: " + why);
                failures?.Add($"{entry.Namespace}/{entry.Deployment} ({entry.Action}): {why}");
            }
        }
        return restored;
    }

    /// <summary>Patches the original values back; the new generation, or null when the Deployment is gone.</summary>
    private static async Task<long?> PatchBackAsync(IKubernetes client, RestoreEntry entry, CancellationToken ct)
    {
        var requests = entry.AppliedRequests.Keys.ToDictionary(k => k, k => entry.OriginalRequests?.GetValueOrDefault(k), StringComparer.Ordinal);
        var limits = entry.AppliedLimits.Keys.ToDictionary(k => k, k => entry.OriginalLimits?.GetValueOrDefault(k), StringComparer.Ordinal);
        for (var attempt = 1; ; attempt++)
        {
            V1Deployment current;
            try
            {
                current = await client.AppsV1.ReadNamespacedDeploymentAsync(entry.Deployment, entry.Namespace, cancellationToken: ct).ConfigureAwait(false);
            }
            catch (Exception e) when (ApiErrors.IsStatus(e, HttpStatusCode.NotFound))
            {
                return null;
            }
            var body = LimitEnforcer.PatchBody(entry.Container, current.Metadata.ResourceVersion, requests, limits);
            try
            {
                var patched = await client.AppsV1.PatchNamespacedDeploymentAsync(
                    new V1Patch(body, V1Patch.PatchType.StrategicMergePatch), entry.Deployment, entry.Namespace, cancellationToken: ct).ConfigureAwait(false);
                return patched.Metadata.Generation ?? 0;
            }
            catch (Exception e) when (ApiErrors.IsStatus(e, HttpStatusCode.Conflict) && attempt < MaxConflictRetries)
            {
                // Changed since our read: read again.
            }
        }
    }

    private static string Text(Dictionary<string, string>? values) =>
        values is null || values.Count == 0 ? "none" : string.Join(" ", values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
}
