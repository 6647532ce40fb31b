using System.Globalization;
using System.Net;
using System.Text;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using FdrHarness.Core.Observations;
using FdrHarness.Kubernetes.Observation;
using FdrHarness.Kubernetes.Prometheus;
using FdrHarness.Kubernetes.Targeting;

namespace FdrHarness.Kubernetes.ContainerTests;

/// <summary>
/// A real Prometheus (Debian's 2.42, scripts/containers.sh) holding the series cAdvisor and kube-state-metrics
/// would give it, queried by <see cref="PrometheusClient"/> and <see cref="PrometheusPodSampler"/>.
/// </summary>
/// <remarks>
/// The samples are backfilled with <c>promtool tsdb create-blocks-from openmetrics</c> before Prometheus starts rather
/// than scraped: backfilled samples carry the timestamps we choose, so the rate of a counter is an exact number and
/// nothing waits for scrape intervals (a scrape-fed rate needs several intervals and gives whatever the timing gave);
/// and nothing in the container has to reach back to the test process, which podman's networking makes fragile.
/// The blocks are read at startup, so the first query after /-/ready already sees them.
/// </remarks>
public sealed class PrometheusSamplerTests(PrometheusSamplerTests.Backfilled prometheus) : IClassFixture<PrometheusSamplerTests.Backfilled>
{
    private const string Namespace = "rucio";
    private const string Evaluator = "fdr-rucio-daemons-judge-evaluator-7d4b9c6f8-x2x9z";  // labelled rucio-daemon=judge-evaluator
    private const string Cleaner = "fdr-judge-cleaner-5f6d7c8b9-abcde";                   // no label: daemon from its name
    private const string Reaper = "fdr-reaper-6b7c8d9f5-qwert";                             // Pending: no usage yet
    private const long MiB = 1024 * 1024;

    // Ten minutes of samples, one a minute, ending a minute before now (whole seconds, as OpenMetrics timestamps).
    private static readonly DateTime End = DateTime.UnixEpoch.AddSeconds((long)(DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds / 60 * 60 - 60);
    private static readonly DateTime Start = End.AddMinutes(-10);

    private readonly PrometheusClient _client = prometheus.Client;

    /// <summary>Memory of the evaluator's main container at minute <paramref name="i"/>: changes every minute so each step is told apart.</summary>
    private static long EvaluatorMemory(int i) => (1000 + i) * MiB;

    private static string OpenMetrics()
    {
        var om = new StringBuilder();
        void Series(string metric, string labels, Func<int, double> value)
        {
            for (var i = 0; i <= 10; i++)
            {
                var t = (long)(Start.AddMinutes(i) - DateTime.UnixEpoch).TotalSeconds;
                om.Append(CultureInfo.InvariantCulture, $"{metric}{{{labels}}} {value(i).ToString("R", CultureInfo.InvariantCulture)} {t}\n");
            }
        }
        string L(string pod, string? container = null, string ns = Namespace) =>
            $"namespace=\"{ns}\",pod=\"{pod}\"" + (container is null ? "" : $",container=\"{container}\"");

        // cAdvisor: the containers, plus the pod-level cgroup (container="") and the pause container, which must not count.
        Series("container_memory_working_set_bytes", L(Evaluator, "rucio-daemons"), i => EvaluatorMemory(i));
        Series("container_memory_working_set_bytes", L(Evaluator, "sidecar"), _ => 50 * MiB);
        Series("container_memory_working_set_bytes", L(Evaluator, ""), _ => 4000 * MiB);
        Series("container_memory_working_set_bytes", L(Evaluator, "POD"), _ => 1 * MiB);
        Series("container_memory_working_set_bytes", L(Cleaner, "rucio-daemons"), _ => 300 * MiB);
        Series("container_memory_working_set_bytes", L("other-pod-1", "x", ns: "elsewhere"), _ => 9 * MiB);
        // Counters in CPU seconds: 0.5 and 0.1 cores for the evaluator's containers, 0.25 for the cleaner.
        Series("container_cpu_usage_seconds_total", L(Evaluator, "rucio-daemons"), i => 30.0 * i);
        Series("container_cpu_usage_seconds_total", L(Evaluator, "sidecar"), i => 6.0 * i);
        Series("container_cpu_usage_seconds_total", L(Evaluator, ""), i => 600.0 * i);
        Series("container_cpu_usage_seconds_total", L(Cleaner, "rucio-daemons"), i => 15.0 * i);
        // kube-state-metrics.
        Series("kube_pod_container_status_restarts_total", L(Evaluator, "rucio-daemons"), _ => 2);
        Series("kube_pod_container_status_restarts_total", L(Evaluator, "sidecar"), _ => 0);
        Series("kube_pod_container_status_restarts_total", L(Cleaner, "rucio-daemons"), _ => 4);
        Series("kube_pod_container_status_restarts_total", L(Reaper, "rucio-daemons"), _ => 0);
        Series("kube_pod_labels", L(Evaluator) + ",label_rucio_daemon=\"judge-evaluator\",label_app_group=\"rucio-daemons\"", _ => 1);
        Series("kube_pod_labels", L(Cleaner), _ => 1);
        Series("kube_pod_info", L(Evaluator) + ",node=\"worker-1\"", _ => 1);
        Series("kube_pod_info", L(Cleaner) + ",node=\"worker-2\"", _ => 1);
        Series("kube_pod_container_resource_requests", L(Evaluator, "rucio-daemons") + ",resource=\"cpu\",unit=\"core\"", _ => 1);
        Series("kube_pod_container_resource_requests", L(Evaluator, "rucio-daemons") + ",resource=\"memory\",unit=\"byte\"", _ => 1024 * MiB);
        Series("kube_pod_container_resource_limits", L(Evaluator, "rucio-daemons") + ",resource=\"cpu\",unit=\"core\"", _ => 2);
        Series("kube_pod_container_resource_limits", L(Evaluator, "rucio-daemons") + ",resource=\"memory\",unit=\"byte\"", _ => 2000 * MiB);
        foreach (var (pod, phase) in new[] { (Evaluator, "Running"), (Cleaner, "Running"), (Reaper, "Pending") })
        foreach (var p in new[] { "Pending", "Running", "Failed" })
            Series("kube_pod_status_phase", L(pod) + $",phase=\"{p}\"", _ => p == phase ? 1 : 0);
        Series("kube_pod_container_status_waiting_reason", L(Cleaner, "rucio-daemons") + ",reason=\"CrashLoopBackOff\"", _ => 1);
        om.Append("# EOF\n");
        return om.ToString();
    }

    private PrometheusPodSampler Sampler() => new(_client, new PrometheusSamplerOptions { Namespace = Namespace, Release = "fdr" });

    [Fact]
    public async Task PodSamplesAtAnInstantCarryTheValuesFed()
    {
        var samples = await Sampler().SampleAsync(End);

        Assert.Equal(new[] { Cleaner, Evaluator, Reaper }.Order(StringComparer.Ordinal), samples.Select(s => s.Pod).Order(StringComparer.Ordinal));
        Assert.All(samples, s => Assert.Equal(End, s.Time));

        var evaluator = Assert.Single(samples, s => s.Pod == Evaluator);
        Assert.Equal("judge-evaluator", evaluator.Daemon);
        Assert.Equal("worker-1", evaluator.Node);
        Assert.Equal("Running", evaluator.State);
        Assert.Equal(EvaluatorMemory(10) + 50 * MiB, evaluator.MemoryBytes);   // containers only: not the pod cgroup, not pause
        Assert.Equal(0.6, evaluator.CpuCores, 9);
        Assert.Equal(2, evaluator.Restarts);
        Assert.Equal((1.0, 2.0), (evaluator.CpuRequest, evaluator.CpuLimit));
        Assert.Equal((1024 * MiB, 2000 * MiB), (evaluator.MemoryRequest, evaluator.MemoryLimit));

        var cleaner = Assert.Single(samples, s => s.Pod == Cleaner);
        Assert.Equal("judge-cleaner", cleaner.Daemon);                         // release prefix and ReplicaSet suffixes stripped
        Assert.Equal(("worker-2", "CrashLoopBackOff", 4), (cleaner.Node, cleaner.State, cleaner.Restarts));
        Assert.Equal(300 * MiB, cleaner.MemoryBytes);
        Assert.Equal(0.25, cleaner.CpuCores, 9);
        Assert.Null(cleaner.MemoryLimit);

        var reaper = Assert.Single(samples, s => s.Pod == Reaper);
        Assert.Equal(("reaper", "Pending", 0L, 0.0), (reaper.Daemon, reaper.State, reaper.MemoryBytes, reaper.CpuCores));
    }

    [Fact]
    public async Task PodSamplesOverARangeFollowEachStep()
    {
        var samples = await Sampler().SampleRangeAsync(End.AddMinutes(-2), End, TimeSpan.FromMinutes(1));

        var evaluator = samples.Where(s => s.Pod == Evaluator).ToList();
        Assert.Equal([End.AddMinutes(-2), End.AddMinutes(-1), End], evaluator.Select(s => s.Time));
        Assert.Equal([EvaluatorMemory(8), EvaluatorMemory(9), EvaluatorMemory(10)], evaluator.Select(s => s.MemoryBytes - 50 * MiB));
        Assert.All(evaluator, s => Assert.Equal(0.6, s.CpuCores, 9));
        Assert.All(evaluator, s => Assert.Equal(2000 * MiB, s.MemoryLimit));
        Assert.Equal(9, samples.Count);   // three pods at three steps
    }

    [Fact]
    public async Task UsageSourceOfTheLiveSamplerReadsPrometheusNow()
    {
        // At the end of the samples: at the wall clock's now the rate window reaches past the last sample.
        IPodUsageSource source = new PrometheusUsageSource(_client, clock: new FixedClock(End));
        var usage = await source.ReadAsync([Namespace, "elsewhere"], CancellationToken.None);

        var evaluator = usage[new PodRef(Namespace, Evaluator)];
        Assert.Equal(EvaluatorMemory(10) + 50 * MiB, evaluator.MemoryBytes);
        Assert.Equal(0.6, evaluator.CpuCores, 9);
        Assert.Equal(9 * MiB, usage[new PodRef("elsewhere", "other-pod-1")].MemoryBytes);
        Assert.False(usage.ContainsKey(new PodRef(Namespace, Reaper)));   // no usage yet: the pod itself says Pending
    }

    [Fact]
    public async Task PrometheusErrorsComeFromItsErrorBody()
    {
        var e = await Assert.ThrowsAsync<PrometheusException>(() => _client.QueryAsync("sum(rate(container_cpu_usage_seconds_total[5m]"));
        Assert.Equal("bad_data", e.ErrorType);
        Assert.Equal(HttpStatusCode.BadRequest, e.Status);
        Assert.Contains("parse error", e.Message);

        // A scalar result is one series without labels.
        var scalar = Assert.Single(await _client.QueryAsync("scalar(sum(kube_pod_container_status_restarts_total))", End));
        Assert.Equal(new PromPoint(End, 6), Assert.Single(scalar.Points));
    }

    private sealed class FixedClock(DateTime now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(now, TimeSpan.Zero);
    }

    /// <summary>One Prometheus for the class: started once, the tests only read it.</summary>
    public sealed class Backfilled : IAsyncLifetime
    {
        private IContainer? _container;
        public PrometheusClient Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Engine.Require();
            // promtool and prometheus by name: /usr/bin in Debian's image, /bin in prom/prometheus (FDR_PROMETHEUS_IMAGE).
            _container = new ContainerBuilder(Engine.PrometheusImage)
                .WithResourceMapping(Encoding.UTF8.GetBytes(OpenMetrics()), "/backfill/samples.om")
                .WithEntrypoint("/bin/sh", "-c")
                .WithCommand("promtool tsdb create-blocks-from openmetrics /backfill/samples.om /prometheus >/dev/null"
                             + " && exec prometheus --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus --web.listen-address=0.0.0.0:9090")
                .WithPortBinding(9090, true)
                .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(9090).ForPath("/-/ready")))
                .Build();
            using var startup = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await _container.StartAsync(startup.Token);
            Client = new PrometheusClient(new Uri($"http://{_container.Hostname}:{_container.GetMappedPublicPort(9090)}"));
        }

        public async Task DisposeAsync()
        {
            if (_container is not null) await _container.DisposeAsync();
        }
    }
}
