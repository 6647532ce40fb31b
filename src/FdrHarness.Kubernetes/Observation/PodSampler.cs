using FdrHarness.Core.Observations;
using FdrHarness.Core.Rucio;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Targeting;
using k8s;
using k8s.Models;

namespace FdrHarness.Kubernetes.Observation;

/// <summary>CPU and memory a pod uses now: the sum over its containers.</summary>
public readonly record struct PodUsage(double CpuCores, long MemoryBytes);

/// <summary>
/// Where usage comes from: metrics.k8s.io here, Prometheus (src/FdrHarness.Kubernetes/Prometheus) as a second
/// source. The sampler asks each source in order and takes, per pod, the first that knows it.
/// </summary>
public interface IPodUsageSource
{
    string Name { get; }
    Task<IReadOnlyDictionary<PodRef, PodUsage>> ReadAsync(IReadOnlyList<string> namespaces, CancellationToken ct);
}

/// <summary>metrics.k8s.io/v1beta1 PodMetrics, listed per namespace (the metrics-server's latest window).</summary>
public sealed class MetricsServerUsage(IKubernetes client) : IPodUsageSource
{
    public string Name => "metrics.k8s.io";

    public async Task<IReadOnlyDictionary<PodRef, PodUsage>> ReadAsync(IReadOnlyList<string> namespaces, CancellationToken ct)
    {
        var usage = new Dictionary<PodRef, PodUsage>();
        foreach (var ns in namespaces)
        {
            var list = await client.CustomObjects.ListNamespacedCustomObjectAsync<PodMetricsList>(
                "metrics.k8s.io", "v1beta1", ns, "pods", cancellationToken: ct).ConfigureAwait(false);
            foreach (var pod in list.Items ?? [])
            {
                double cpu = 0;
                long memory = 0;
                foreach (var c in pod.Containers ?? [])
                {
                    cpu += KubeQuantities.CpuCores(c.Usage) ?? 0;
                    memory += KubeQuantities.MemoryBytes(c.Usage) ?? 0;
                }
                usage[new PodRef(pod.Metadata?.NamespaceProperty ?? ns, pod.Metadata?.Name ?? "")] = new PodUsage(cpu, memory);
            }
        }
        return usage;
    }
}

/// <summary>
/// Every observation interval, a PodSample per known pod: usage from the sources, requests, limits, node, state and
/// restarts from the pod itself, as the embedded lake samples its pods.
/// </summary>
public sealed class PodSampler(PodInventory inventory, IReadOnlyList<IPodUsageSource> sources, IReadOnlyList<string> namespaces,
    IObservationSink sink, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private int _samples;
    private int _sourceFailures;

    public int Samples => Volatile.Read(ref _samples);
    /// <summary>Times a source could not be read (the interval is still sampled, without its usage).</summary>
    public int SourceFailures => Volatile.Read(ref _sourceFailures);

    /// <summary>One round of samples at the clock's now; returns how many.</summary>
    public async Task<int> SampleOnceAsync(CancellationToken ct)
    {
        var time = _clock.GetUtcNow().UtcDateTime;
        var usages = new List<IReadOnlyDictionary<PodRef, PodUsage>>();
        foreach (var source in sources)
        {
            try
            {
                usages.Add(await source.ReadAsync(namespaces, ct).ConfigureAwait(false));
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref _sourceFailures);
            }
        }
        var written = 0;
        foreach (var pod in inventory.Pods())
        {
            var key = PodInventory.Key(pod);
            PodUsage? usage = null;
            foreach (var u in usages)
                if (u.TryGetValue(key, out var found)) { usage = found; break; }
            sink.Sample(ToSample(pod, usage, time));
            written++;
        }
        Interlocked.Add(ref _samples, written);
        return written;
    }

    /// <summary>Samples every <paramref name="interval"/> from <paramref name="first"/> until cancelled.</summary>
    public async Task RunAsync(DateTimeOffset first, TimeSpan interval, CancellationToken ct)
    {
        for (var next = first; !ct.IsCancellationRequested; next += interval)
        {
            var wait = next - _clock.GetUtcNow();
            if (wait > TimeSpan.Zero) await Task.Delay(wait, _clock, ct).ConfigureAwait(false);
            await SampleOnceAsync(ct).ConfigureAwait(false);
        }
    }

    internal static PodSample ToSample(V1Pod pod, PodUsage? usage, DateTime time)
    {
        var containers = pod.Spec?.Containers ?? [];
        return new PodSample
        {
            Time = time,
            Daemon = ChartLabels.DaemonOf(pod.Metadata.Labels, pod.Metadata.Name),
            Pod = pod.Metadata.Name,
            Node = string.IsNullOrEmpty(pod.Spec?.NodeName) ? null : pod.Spec.NodeName,
            State = State(pod),
            CpuCores = usage?.CpuCores ?? 0,
            MemoryBytes = usage?.MemoryBytes ?? 0,
            CpuRequest = Sum(containers, c => KubeQuantities.CpuCores(c.Resources?.Requests)),
            CpuLimit = Sum(containers, c => KubeQuantities.CpuCores(c.Resources?.Limits)),
            MemoryRequest = Sum(containers, c => KubeQuantities.MemoryBytes(c.Resources?.Requests)),
            MemoryLimit = Sum(containers, c => KubeQuantities.MemoryBytes(c.Resources?.Limits)),
            Restarts = PodFacts.Restarts(pod),
            Backlog = 0, // the daemons' queues are Rucio's to tell, not the cluster's
        };
    }

    /// <summary>The lake's four states: Running, Pending, CrashLoopBackOff, Terminated.</summary>
    internal static string State(V1Pod pod)
    {
        if (pod.Metadata.DeletionTimestamp is not null || pod.Status?.Phase is "Succeeded" or "Failed") return "Terminated";
        if (pod.Status?.ContainerStatuses?.Any(c => c.State?.Waiting?.Reason == "CrashLoopBackOff") == true) return "CrashLoopBackOff";
        return pod.Status?.Phase == "Running" ? "Running" : "Pending";
    }

    /// <summary>The pod's total: null when a container has none (a pod limit exists only if every container has one).</summary>
    private static double? Sum(IList<V1Container> containers, Func<V1Container, double?> value)
    {
        if (containers.Count == 0) return null;
        double total = 0;
        foreach (var c in containers)
        {
            if (value(c) is not { } v) return null;
            total += v;
        }
        return total;
    }

    private static long? Sum(IList<V1Container> containers, Func<V1Container, long?> value)
    {
        if (containers.Count == 0) return null;
        long total = 0;
        foreach (var c in containers)
        {
            if (value(c) is not { } v) return null;
            total += v;
        }
        return total;
    }
}
