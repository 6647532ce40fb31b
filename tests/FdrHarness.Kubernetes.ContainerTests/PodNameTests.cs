using FdrHarness.Kubernetes.Prometheus;

namespace FdrHarness.Kubernetes.ContainerTests;

/// <summary>The daemon of a pod when Prometheus has no rucio-daemon label for it: from its name alone.</summary>
public class PodNameTests
{
    [Theory]
    [InlineData("fdr-judge-evaluator-7d4b9c6f8-x2x9z", "fdr", "judge-evaluator")]
    [InlineData("rucio-rucio-daemons-conveyor-submitter-6f7b8c9d5-k2l3m", "rucio", "conveyor-submitter")]   // fullname = release-chart
    [InlineData("rucio-daemons-abacus-collection-replica-5c6d7e8f9-abcde", null, "abacus-collection-replica")]
    [InlineData("prod-dark-reaper-5c6d7e8f9-abcde", null, "dark-reaper")]                                   // longest daemon name wins over reaper
    [InlineData("prod-reaper-5c6d7e8f9-abcde", "other", "reaper")]                                          // release not a prefix: by known names
    [InlineData("my-custom-thing-5c6d7e8f9-abcde", null, "my-custom-thing")]
    [InlineData("postgres-0", null, "postgres-0")]                                                           // not a Deployment's pod: kept
    public void DaemonFromPodName(string pod, string? release, string daemon) =>
        Assert.Equal(daemon, PrometheusPodSampler.DaemonFromPodName(pod, release));

    [Theory]
    [InlineData(300, "5m")]
    [InlineData(90, "90s")]
    [InlineData(1.5, "1500ms")]
    public void RateWindowsAreWholePromQLUnits(double seconds, string expected) =>
        Assert.Equal(expected, PrometheusPodSampler.PromDuration(TimeSpan.FromSeconds(seconds)));
}
