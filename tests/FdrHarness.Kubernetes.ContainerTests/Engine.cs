using DotNet.Testcontainers.Configurations;

namespace FdrHarness.Kubernetes.ContainerTests;

/// <summary>The container engine and the images the tests use (scripts/containers.sh builds Prometheus; overridable by env).</summary>
internal static class Engine
{
    /// <summary>Debian's Prometheus 2.42 built by scripts/containers.sh; prom/prometheus:v2.x where a registry is reachable.</summary>
    public static string PrometheusImage => Environment.GetEnvironmentVariable("FDR_PROMETHEUS_IMAGE") ?? "localhost/fdr-prometheus:2";

    /// <summary>The K3s image Testcontainers.K3s 4.16 defaults to; it cannot be built or pulled on these machines.</summary>
    public static string K3sImage => Environment.GetEnvironmentVariable("FDR_K3S_IMAGE") ?? "rancher/k3s:v1.26.2-k3s1";

    /// <summary>No engine is a failure, not a skip: scripts/test.sh always sets one up (scripts/containers.sh).</summary>
    public static void Require()
    {
        if (TestcontainersSettings.OS.DockerEndpointAuthConfig is null)
            Assert.Fail("no container engine reachable: run scripts/containers.sh and source /run/fdr-containers.env (DOCKER_HOST) before these tests");
    }
}
