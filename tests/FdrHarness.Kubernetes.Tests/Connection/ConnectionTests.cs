using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Connection;
using FdrHarness.Kubernetes.Tests.Fake;

namespace FdrHarness.Kubernetes.Tests.Connection;

public class ConnectionTests
{
    [Fact]
    public async Task Probe_of_a_live_server_returns_its_version()
    {
        await using var h = await Harness.StartAsync();
        var version = await ClusterConnector.ProbeAsync(h.Client, "rucio");
        Assert.Equal("v1.31.0-fake", version);
        Assert.Contains(h.Api.Requests, r => r.Path == "/api/v1/namespaces/rucio/pods" && r.Query["limit"] == "1");
    }

    [Fact]
    public async Task Refused_port_fails_quickly_with_connection_refused()
    {
        // A port that was free a moment ago: nothing listens there.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = ClusterConnector.Create(new Uri($"http://127.0.0.1:{port}"));

        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ClusterUnreachableException>(() => ClusterConnector.ProbeAsync(client, "rucio"));
        Assert.Equal("connection refused", e.Reason);
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Forbidden_namespace_is_reported_with_the_servers_message()
    {
        await using var h = await Harness.StartAsync();
        h.Api.ForbiddenNamespaces.Add("rucio");
        var e = await Assert.ThrowsAsync<ClusterUnreachableException>(() => ClusterConnector.ProbeAsync(h.Client, "rucio"));
        Assert.StartsWith("403 Forbidden: pods is forbidden", e.Reason);
        Assert.Contains("namespace rucio", e.Reason);
    }

    [Fact]
    public async Task Unknown_host_is_reported_as_dns()
    {
        using var client = ClusterConnector.Create(new Uri("http://no-such-host.invalid:6443"));
        var e = await Assert.ThrowsAsync<ClusterUnreachableException>(() => ClusterConnector.ProbeAsync(client, timeout: TimeSpan.FromSeconds(20)));
        Assert.Equal("host name not found (DNS)", e.Reason);
    }

    [Fact]
    public void Missing_kubeconfig_is_refused_with_its_path()
    {
        var e = Assert.Throws<ClusterUnreachableException>(() =>
            ClusterConnector.Create(new KubernetesConnection { Kubeconfig = "/nonexistent/kubeconfig", Namespaces = ["rucio"] }));
        Assert.Contains("/nonexistent/kubeconfig does not exist", e.Reason);
    }

    [Fact]
    public async Task Kubeconfig_with_a_context_reaches_its_server_and_the_token_never_shows()
    {
        await using var h = await Harness.StartAsync();
        var path = Path.Combine(h.Run.Path, "kubeconfig");
        const string token = "s3cr3t-token-value";
        File.WriteAllText(path, $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster: {server: "{{h.Api.Url.ToString().TrimEnd('/')}}"}
            - name: other
              cluster: {server: "http://127.0.0.1:1"}
            users:
            - name: harness
              user: {token: {{token}}}
            contexts:
            - name: fake-ctx
              context: {cluster: fake, user: harness}
            - name: other-ctx
              context: {cluster: other, user: harness}
            current-context: other-ctx
            """);
        using var client = ClusterConnector.Create(new KubernetesConnection { Kubeconfig = path, Context = "fake-ctx", Namespaces = ["rucio"] });
        Assert.Equal("v1.31.0-fake", await ClusterConnector.ProbeAsync(client, "rucio"));

        h.Api.ForbiddenNamespaces.Add("rucio");
        var e = await Assert.ThrowsAsync<ClusterUnreachableException>(() => ClusterConnector.ProbeAsync(client, "rucio"));
        Assert.DoesNotContain(token, e.ToString());
    }
}
