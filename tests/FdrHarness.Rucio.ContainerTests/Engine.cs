using System.Net;
using System.Net.Sockets;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;

namespace FdrHarness.Rucio.ContainerTests;

/// <summary>The container engine and the images scripts/containers.sh builds from Debian packages (overridable by env).</summary>
internal static class Engine
{
    public static string ActiveMqImage => Environment.GetEnvironmentVariable("FDR_ACTIVEMQ_IMAGE") ?? "localhost/fdr-activemq:6";
    public static string NginxImage => Environment.GetEnvironmentVariable("FDR_NGINX_WEBDAV_IMAGE") ?? "localhost/fdr-nginx-webdav:1";

    /// <summary>No engine is a failure, not a skip: scripts/test.sh always sets one up (scripts/containers.sh).</summary>
    public static void Require()
    {
        if (TestcontainersSettings.OS.DockerEndpointAuthConfig is null)
            Assert.Fail("no container engine reachable: run scripts/containers.sh and source /run/fdr-containers.env (DOCKER_HOST) before these tests");
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>ActiveMQ with its STOMP port bound to a fixed host port, so a restarted broker is found where it was.</summary>
    public static IContainer ActiveMq(int hostPort) => new ContainerBuilder(ActiveMqImage)
        .WithPortBinding(hostPort, 61613)
        .WithWaitStrategy(Wait.ForUnixContainer().UntilMessageIsLogged(@"ActiveMQ \S+ \(.*\) started"))
        .Build();

    public static IContainer Nginx() => new ContainerBuilder(NginxImage)
        .WithPortBinding(80, true)
        .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(80).ForPath("/")))
        .Build();

    /// <summary>Waits for real work of a real service, polling; fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task Until(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var end = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > end) Assert.Fail($"timed out after {timeout.TotalSeconds:0} s: {what()}");
            await Task.Delay(20);
        }
    }
}
