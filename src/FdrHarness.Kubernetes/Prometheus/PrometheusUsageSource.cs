using FdrHarness.Kubernetes.Observation;
using FdrHarness.Kubernetes.Targeting;

namespace FdrHarness.Kubernetes.Prometheus;

/// <summary>
/// Pod usage from Prometheus for the live sampler (<see cref="PodSampler"/>), next to or instead of metrics.k8s.io:
/// working-set memory and the CPU rate, summed over a pod's containers, at the clock's now (Prometheus' own when none
/// is given). Requests, limits, restarts
/// and states come from the pods themselves there; <see cref="PrometheusPodSampler"/> gives whole rows from Prometheus alone.
/// </summary>
public sealed class PrometheusUsageSource(PrometheusClient client, TimeSpan? rateWindow = null, TimeProvider? clock = null) : IPodUsageSource
{
    public string Name => "prometheus";

    public async Task<IReadOnlyDictionary<PodRef, PodUsage>> ReadAsync(IReadOnlyList<string> namespaces, CancellationToken ct)
    {
        var usage = new Dictionary<PodRef, PodUsage>();
        DateTime? at = clock?.GetUtcNow().UtcDateTime;
        foreach (var ns in namespaces)
        {
            var queries = new PrometheusPodSampler(client, new PrometheusSamplerOptions { Namespace = ns, RateWindow = rateWindow ?? TimeSpan.FromMinutes(5) }).Queries();
            var memory = client.QueryAsync(queries[PrometheusPodSampler.Series.Memory], at, ct);
            var cpu = client.QueryAsync(queries[PrometheusPodSampler.Series.Cpu], at, ct);
            foreach (var s in await memory.ConfigureAwait(false))
                if (s.Points.Count > 0) usage[new PodRef(ns, s.Label("pod"))] = new PodUsage(0, (long)Math.Round(s.Points[^1].Value));
            foreach (var s in await cpu.ConfigureAwait(false))
            {
                if (s.Points.Count == 0) continue;
                var pod = new PodRef(ns, s.Label("pod"));
                usage[pod] = usage.GetValueOrDefault(pod) with { CpuCores = s.Points[^1].Value };
            }
        }
        return usage;
    }
}
