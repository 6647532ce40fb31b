using System.Net;
using System.Net.Sockets;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using FdrHarness.Rucio.Stomp;

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

    /// <summary>
    /// Waits until <paramref name="holds"/> is true, checked now and after every change of any of
    /// <paramref name="consumers"/> (a message handled, a subscription made): as long as the work takes, never a fixed pace. <paramref name="bound"/> only
    /// turns a state that never comes into a failure naming <paramref name="what"/>.
    /// </summary>
    public static async Task When(IReadOnlyList<HermesConsumer> consumers, Func<bool> holds, TimeSpan bound, Func<string> what)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check() { if (holds()) done.TrySetResult(); }
        foreach (var c in consumers) c.Changed += Check;
        try
        {
            Check();
            await done.Task.WaitAsync(bound);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"not within {bound.TotalSeconds:0} s: {what()}");
        }
        finally
        {
            foreach (var c in consumers) c.Changed -= Check;
        }
    }
}
