using System.Net.Sockets;
using DotNet.Testcontainers.Configurations;

namespace FdrHarness.Kubernetes.ContainerTests;

/// <summary>
/// A fact that runs only where a real cluster can: a container engine answers AND the K3s image is already there.
/// xunit 2 has no dynamic skip, so the check runs once, when the attribute is built, and sets <see cref="FactAttribute.Skip"/>.
/// On these machines it skips: no Kubernetes binaries can be obtained and no registry answers, so the image never
/// exists here. Where it does (a Docker engine that has pulled rancher/k3s), the tests run for real.
/// </summary>
public sealed class K3sFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Reason = new(WhyNot);

    public K3sFactAttribute()
    {
        if (Reason.Value is { } reason) Skip = reason;
    }

    /// <summary>Null when a K3s cluster can be started; else why not, for the skip message and the fixture.</summary>
    public static string? SkipReason => Reason.Value;

    private static string? WhyNot()
    {
        var endpoint = TestcontainersSettings.OS.DockerEndpointAuthConfig?.Endpoint;
        if (endpoint is null) return "no container engine reachable (DOCKER_HOST), so no K3s cluster";
        try
        {
            using var http = Http(endpoint);
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            using var response = http.GetAsync($"images/{Uri.EscapeDataString(Engine.K3sImage)}/json", cancel.Token).GetAwaiter().GetResult();
            if (response.IsSuccessStatusCode) return null;
            return $"image {Engine.K3sImage} is not present on the engine and cannot be pulled here (no registry; no Kubernetes binaries " +
                   "can be obtained on these machines); pull it, or set FDR_K3S_IMAGE to one that is present, to run this test";
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or OperationCanceledException or IOException)
        {
            return $"the container engine at {endpoint} did not answer ({e.Message})";
        }
    }

    /// <summary>The engine's HTTP API over its unix socket or TCP (the Docker API's image inspect is all we ask).</summary>
    private static HttpClient Http(Uri endpoint)
    {
        if (endpoint.Scheme != "unix")
            return new HttpClient { BaseAddress = new UriBuilder(endpoint) { Scheme = endpoint.Scheme == "https" ? "https" : "http" }.Uri };
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(endpoint.AbsolutePath), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri("http://engine/") };
    }
}
