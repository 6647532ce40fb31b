using System.Net;
using FdrHarness.Core.Observations;
using FdrHarness.Kubernetes.Connection;
using FdrHarness.Kubernetes.Targeting;
using k8s;
using k8s.Models;

namespace FdrHarness.Kubernetes.Observation;

/// <summary>
/// Lists then watches the pods of each namespace (resourceVersion, allowWatchBookmarks) and writes their lifecycle.
/// On 410 Gone — an ERROR event carrying a Status of code 410, or an HTTP 410 — it lists again and compares with
/// what it knew, so nothing is lost and nothing written twice. A watch that simply ends is resumed where it was.
/// </summary>
public sealed class PodWatcher(IKubernetes client, IReadOnlyList<string> namespaces, IObservationSink sink, TimeProvider? clock = null,
    string? labelSelector = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Dictionary<PodRef, PodSnapshot> _known = [];
    private readonly Lock _gate = new();
    private int _relists;
    private int _events;
    private int _errors;

    public PodInventory Inventory { get; } = new();

    /// <summary>Lists done after the first, because the watch's resourceVersion had expired.</summary>
    public int Relists => Volatile.Read(ref _relists);
    public int LifecycleEvents => Volatile.Read(ref _events);
    /// <summary>Watch failures other than 410 (each followed by a resumed watch).</summary>
    public int Errors => Volatile.Read(ref _errors);

    /// <summary>Seconds a single watch request may last before the server ends it and it is resumed.</summary>
    public int WatchTimeoutSeconds { get; init; } = 300;
    /// <summary>Wait before resuming after a failed watch.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The pods as they are now, without writing events: the baseline of a run. Returns each namespace's resourceVersion.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ListAsync(CancellationToken ct)
    {
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var ns in namespaces) versions[ns] = await ListNamespaceAsync(ns, baseline: true, ct).ConfigureAwait(false);
        return versions;
    }

    /// <summary>Watches until <paramref name="ct"/> is cancelled; lists first unless <paramref name="listed"/> gives the versions to start from.</summary>
    public async Task RunAsync(CancellationToken ct, IReadOnlyDictionary<string, string>? listed = null)
    {
        listed ??= await ListAsync(ct).ConfigureAwait(false);
        await Task.WhenAll(namespaces.Select(ns => WatchNamespaceAsync(ns, listed[ns], ct))).ConfigureAwait(false);
    }

    private async Task WatchNamespaceAsync(string ns, string resourceVersion, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var gone = false;
            try
            {
                var stream = client.CoreV1.WatchListNamespacedPodAsync(ns, allowWatchBookmarks: true, labelSelector: labelSelector,
                    resourceVersion: resourceVersion, timeoutSeconds: WatchTimeoutSeconds,
                    onError: e =>
                    {
                        // The client reports an ERROR event through here and goes on reading; the server then ends the stream.
                        if (e is KubernetesException { Status.Code: 410 }) gone = true;
                        else Interlocked.Increment(ref _errors);
                    },
                    cancellationToken: ct);
                await foreach (var (type, pod) in stream.ConfigureAwait(false))
                {
                    if (pod?.Metadata?.ResourceVersion is { } rv) resourceVersion = rv;
                    switch (type)
                    {
                        case WatchEventType.Added or WatchEventType.Modified:
                            Seen(pod!);
                            break;
                        case WatchEventType.Deleted:
                            Deleted(PodInventory.Key(pod!), pod);
                            break;
                        // BOOKMARK: only its resourceVersion matters, kept above.
                    }
                }
            }
            catch (Exception e) when (ApiErrors.IsStatus(e, HttpStatusCode.Gone))
            {
                gone = true;
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref _errors);
                await Task.Delay(RetryDelay, _clock, ct).ConfigureAwait(false);
                continue;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (gone && !ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref _relists);
                try
                {
                    resourceVersion = await ListNamespaceAsync(ns, baseline: false, ct).ConfigureAwait(false);
                }
                catch (Exception) when (!ct.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _errors);
                    await Task.Delay(RetryDelay, _clock, ct).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Lists one namespace; with <paramref name="baseline"/> records without events, else writes what changed since.</summary>
    private async Task<string> ListNamespaceAsync(string ns, bool baseline, CancellationToken ct)
    {
        var list = await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false);
        var present = new HashSet<PodRef>();
        foreach (var pod in list.Items)
        {
            pod.Metadata.NamespaceProperty ??= ns;
            present.Add(PodInventory.Key(pod));
            if (baseline)
            {
                lock (_gate) _known[PodInventory.Key(pod)] = PodLifecycleTranslator.Snapshot(pod);
                Inventory.Set(pod);
            }
            else Seen(pod);
        }
        // Pods deleted while the watch was gone.
        foreach (var missing in Inventory.In(ns).Where(p => !present.Contains(p)).ToList()) Deleted(missing, null);
        return list.Metadata?.ResourceVersion ?? "";
    }

    private void Seen(V1Pod pod)
    {
        var key = PodInventory.Key(pod);
        var after = PodLifecycleTranslator.Snapshot(pod);
        IReadOnlyList<(string Event, string? Reason)> changes;
        lock (_gate)
        {
            var before = _known.TryGetValue(key, out var b) ? b : PodSnapshot.Unseen(after);
            _known[key] = after;
            changes = PodLifecycleTranslator.Changes(before, after);
        }
        Inventory.Set(pod);
        foreach (var (what, reason) in changes) Write(after, what, reason);
    }

    private void Deleted(PodRef key, V1Pod? pod)
    {
        PodSnapshot? last;
        lock (_gate)
        {
            // Known only once: a DELETED event and a relist that no longer sees the pod write one 'deleted'.
            if (!_known.Remove(key, out last)) return;
        }
        Inventory.Remove(key);
        Write(pod is null ? last : PodLifecycleTranslator.Snapshot(pod), "deleted", null);
    }

    private void Write(PodSnapshot pod, string what, string? reason)
    {
        Interlocked.Increment(ref _events);
        sink.Lifecycle(new PodLifecycleEvent
        {
            Time = _clock.GetUtcNow().UtcDateTime,
            Daemon = pod.Daemon,
            Pod = pod.Name,
            Node = pod.Node,
            Event = what,
            Reason = reason,
            Restarts = pod.Restarts,
        });
    }
}
