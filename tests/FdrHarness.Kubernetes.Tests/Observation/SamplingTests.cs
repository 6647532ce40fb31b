using FdrHarness.Kubernetes.Observation;
using FdrHarness.Kubernetes.Targeting;
using FdrHarness.Kubernetes.Tests.Fake;

namespace FdrHarness.Kubernetes.Tests.Observation;

public class SamplingTests
{
    private sealed class BrokenSource : IPodUsageSource
    {
        public string Name => "broken";
        public Task<IReadOnlyDictionary<PodRef, PodUsage>> ReadAsync(IReadOnlyList<string> namespaces, CancellationToken ct) =>
            throw new HttpRequestException("prometheus down");
    }

    [Fact]
    public async Task Metrics_server_usage_and_pod_specs_become_samples()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "judge-evaluator", 2,
            requests: new() { ["cpu"] = "500m", ["memory"] = "1Gi" }, limits: new() { ["cpu"] = "2", ["memory"] = "2000Mi" });
        var pods = h.Api.Pods("rucio").Select(p => (string)p["metadata"]!["name"]!).ToList();
        h.Api.SetMetrics("rucio", pods[0], "12345678n", "123456Ki");
        h.Api.UpdatePod("rucio", pods[1], p => p["status"]!["containerStatuses"]![0]!["restartCount"] = 3);
        var watcher = new PodWatcher(h.Client, ["rucio"], h.Sink, h.Clock);
        await watcher.ListAsync(CancellationToken.None);
        var sampler = new PodSampler(watcher.Inventory, [new BrokenSource(), new MetricsServerUsage(h.Client)], ["rucio"], h.Sink, h.Clock);

        Assert.Equal(2, await sampler.SampleOnceAsync(CancellationToken.None));

        Assert.Contains(h.Api.Requests, r => r.Path == "/apis/metrics.k8s.io/v1beta1/namespaces/rucio/pods");
        var measured = Assert.Single(h.Sink.Samples, s => s.Pod == pods[0]);
        Assert.Equal(0.012345678, measured.CpuCores, 9);
        Assert.Equal(123456L * 1024, measured.MemoryBytes);
        Assert.Equal(("judge-evaluator", "worker-1", "Running"), (measured.Daemon, measured.Node, measured.State));
        Assert.Equal((0.5, 2.0), (measured.CpuRequest, measured.CpuLimit));
        Assert.Equal((1L << 30, 2000L << 20), (measured.MemoryRequest, measured.MemoryLimit));
        Assert.Equal(h.Clock.GetUtcNow().UtcDateTime, measured.Time);

        var unmeasured = Assert.Single(h.Sink.Samples, s => s.Pod == pods[1]);
        Assert.Equal((0.0, 0L, 3), (unmeasured.CpuCores, unmeasured.MemoryBytes, unmeasured.Restarts));
        Assert.Equal(1, sampler.SourceFailures);
    }

    [Theory]
    [InlineData("250m", 0.25)]
    [InlineData("2", 2.0)]
    [InlineData("12345678n", 0.012345678)]
    [InlineData("1500u", 0.0015)]
    public void Cpu_quantities(string text, double cores) => Assert.Equal(cores, Kubernetes.Actions.KubeQuantities.CpuCores(text), 9);

    [Theory]
    [InlineData("123456Ki", 123456L * 1024)]
    [InlineData("2Gi", 2L << 30)]
    [InlineData("1G", 1_000_000_000L)]
    [InlineData("512", 512L)]
    [InlineData("1e3", 1000L)]
    public void Memory_quantities(string text, long bytes) => Assert.Equal(bytes, Kubernetes.Actions.KubeQuantities.MemoryBytes(text));
}
