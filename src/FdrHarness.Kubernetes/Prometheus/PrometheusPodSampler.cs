using System.Globalization;
using System.Text.RegularExpressions;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Helm;

namespace FdrHarness.Kubernetes.Prometheus;

public sealed record PrometheusSamplerOptions
{
    /// <summary>The namespace whose pods are sampled.</summary>
    public required string Namespace { get; init; }

    /// <summary>The rucio-daemons Helm release, stripped from pod names when Prometheus has no rucio-daemon label.</summary>
    public string? Release { get; init; }

    /// <summary>The window of rate(container_cpu_usage_seconds_total[..]); at least four scrape intervals to be stable.</summary>
    public TimeSpan RateWindow { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Pod resources from Prometheus as <see cref="PodSample"/> rows, the same rows the embedded lake writes:
/// working-set memory and CPU rate from cAdvisor (kubelet), restarts, requests, limits, node and phase from
/// kube-state-metrics. Series a Prometheus lacks leave their fields at their defaults (limits null, restarts 0);
/// the daemon comes from kube_pod_labels' label_rucio_daemon when kube-state-metrics exports it (it does only for
/// labels on its allow-list), else from the pod name. Backlog is 0: queue lengths are Rucio's, not Prometheus'.
/// </summary>
public sealed partial class PrometheusPodSampler(PrometheusClient client, PrometheusSamplerOptions options)
{
    internal enum Series { Memory, Cpu, Restarts, Labels, Info, Requests, Limits, Phase, CrashLoop }

    /// <summary>Every pod of the namespace at <paramref name="at"/> (Prometheus' now when null), one instant query per series.</summary>
    public Task<IReadOnlyList<PodSample>> SampleAsync(DateTime? at = null, CancellationToken cancel = default) =>
        CollectAsync(q => client.QueryAsync(q, at, cancel));

    /// <summary>Every pod at every step from <paramref name="start"/> to <paramref name="end"/>: a finished run's samples after the fact.</summary>
    public Task<IReadOnlyList<PodSample>> SampleRangeAsync(DateTime start, DateTime end, TimeSpan step, CancellationToken cancel = default) =>
        CollectAsync(q => client.QueryRangeAsync(q, start, end, step, cancel));

    /// <summary>The PromQL of each series, all restricted to the namespace; usage summed over a pod's containers.</summary>
    internal IReadOnlyDictionary<Series, string> Queries()
    {
        var ns = $"namespace=\"{Escape(options.Namespace)}\"";
        // cAdvisor also exports a pod-level cgroup (container="") and the pause container (POD): counting them would double.
        var containers = $"{ns}, container!=\"\", container!=\"POD\"";
        var window = PromDuration(options.RateWindow);
        return new Dictionary<Series, string>
        {
            [Series.Memory] = $"sum by (pod) (container_memory_working_set_bytes{{{containers}}})",
            [Series.Cpu] = $"sum by (pod) (rate(container_cpu_usage_seconds_total{{{containers}}}[{window}]))",
            [Series.Restarts] = $"sum by (pod) (kube_pod_container_status_restarts_total{{{ns}}})",
            [Series.Labels] = $"kube_pod_labels{{{ns}}}",
            [Series.Info] = $"kube_pod_info{{{ns}}}",
            [Series.Requests] = $"sum by (pod, resource) (kube_pod_container_resource_requests{{{ns}, resource=~\"cpu|memory\"}})",
            [Series.Limits] = $"sum by (pod, resource) (kube_pod_container_resource_limits{{{ns}, resource=~\"cpu|memory\"}})",
            [Series.Phase] = $"kube_pod_status_phase{{{ns}}} == 1",
            [Series.CrashLoop] = $"kube_pod_container_status_waiting_reason{{{ns}, reason=\"CrashLoopBackOff\"}} == 1",
        };
    }

    private async Task<IReadOnlyList<PodSample>> CollectAsync(Func<string, Task<IReadOnlyList<PromSeries>>> query)
    {
        var queries = Queries();
        var tasks = queries.ToDictionary(q => q.Key, q => query(q.Value));
        await Task.WhenAll(tasks.Values).ConfigureAwait(false);
        var results = tasks.ToDictionary(t => t.Key, t => t.Value.Result);

        // Per pod: what does not change between steps (daemon, node); per (pod, time): the figures.
        var daemonLabel = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in results[Series.Labels])
            if (s.Label("label_rucio_daemon") is { Length: > 0 } d) daemonLabel[s.Label("pod")] = d;
        var node = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in results[Series.Info])
            if (s.Label("node") is { Length: > 0 } n) node[s.Label("pod")] = n;

        var rows = new SortedDictionary<(DateTime Time, string Pod), PodSample>();
        PodSample Row(string pod, DateTime time)
        {
            if (!rows.TryGetValue((time, pod), out var row))
                row = new PodSample
                {
                    Time = time, Pod = pod, State = "Running",
                    Daemon = daemonLabel.TryGetValue(pod, out var d) ? d : DaemonFromPodName(pod, options.Release),
                    Node = node.GetValueOrDefault(pod),
                };
            return row;
        }
        // Rows exist for pods with usage, restarts or a phase; requests, limits and states only fill them in.
        foreach (var kind in new[] { Series.Memory, Series.Cpu, Series.Restarts, Series.Phase })
        foreach (var s in results[kind])
        foreach (var p in s.Points)
        {
            var pod = s.Label("pod");
            var row = Row(pod, p.Time);
            switch (kind)
            {
                case Series.Memory: row.MemoryBytes = (long)Math.Round(p.Value); break;
                case Series.Cpu: row.CpuCores = p.Value; break;
                case Series.Restarts: row.Restarts = (int)Math.Round(p.Value); break;
                case Series.Phase: row.State = StateOfPhase(s.Label("phase")); break;
            }
            rows[(p.Time, pod)] = row;
        }
        foreach (var kind in new[] { Series.Requests, Series.Limits, Series.CrashLoop })
        foreach (var s in results[kind])
        foreach (var p in s.Points)
        {
            var key = (p.Time, s.Label("pod"));
            if (!rows.TryGetValue(key, out var row)) continue;
            var cpu = s.Label("resource") == "cpu";
            switch (kind)
            {
                case Series.Requests when cpu: row.CpuRequest = p.Value; break;
                case Series.Requests: row.MemoryRequest = (long)Math.Round(p.Value); break;
                case Series.Limits when cpu: row.CpuLimit = p.Value; break;
                case Series.Limits: row.MemoryLimit = (long)Math.Round(p.Value); break;
                case Series.CrashLoop: row.State = "CrashLoopBackOff"; break;
            }
            rows[key] = row;
        }
        return [.. rows.Values];
    }

    /// <summary>The embedded lake's states: Running, Pending, CrashLoopBackOff, Terminated.</summary>
    private static string StateOfPhase(string phase) => phase switch
    {
        "Pending" => "Pending",
        "Succeeded" or "Failed" => "Terminated",
        _ => "Running",
    };

    /// <summary>
    /// A Deployment's pod is &lt;deployment&gt;-&lt;ReplicaSet hash&gt;-&lt;5 characters&gt;, and the chart names the Deployment
    /// &lt;release&gt;-&lt;daemon&gt; (or &lt;release&gt;-rucio-daemons-&lt;daemon&gt;). Without the suffixes: the release prefix
    /// is stripped when given, else the longest daemon name the name ends with is taken, else the name as it is.
    /// </summary>
    public static string DaemonFromPodName(string pod, string? release)
    {
        var m = DeploymentPod().Match(pod);
        var deployment = m.Success ? m.Groups[1].Value : pod;
        if (!string.IsNullOrEmpty(release) && deployment.StartsWith(release + "-", StringComparison.Ordinal))
        {
            var rest = deployment[(release.Length + 1)..];
            return rest.StartsWith("rucio-daemons-", StringComparison.Ordinal) ? rest["rucio-daemons-".Length..] : rest;
        }
        var known = KnownDaemons
            .Where(d => deployment == d || deployment.EndsWith("-" + d, StringComparison.Ordinal))
            .MaxBy(d => d.Length);
        return known ?? deployment;
    }

    private static readonly string[] KnownDaemons = [.. RucioDaemons.All.Union(HelmValues.ChartDaemons.Select(d => d.Daemon))];

    [GeneratedRegex("^(.+)-[a-z0-9]{1,10}-[a-z0-9]{5}$")]
    private static partial Regex DeploymentPod();

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    /// <summary>PromQL durations are whole units: 5m, 90s, 1500ms.</summary>
    internal static string PromDuration(TimeSpan span) =>
        span.TotalMilliseconds % 1000 != 0 ? ((long)span.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms"
        : span.TotalSeconds % 60 != 0 ? ((long)span.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s"
        : ((long)span.TotalMinutes).ToString(CultureInfo.InvariantCulture) + "m";
}
