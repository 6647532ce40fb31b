using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using FdrHarness.Core.Scenarios.Model;
using k8s;
using k8s.Autorest;
using k8s.Exceptions;

namespace FdrHarness.Kubernetes.Connection;

/// <summary>
/// Builds the Kubernetes client from the scenario's connection and checks, within a bound, that the API server
/// answers. Messages name the server and the cause, never a token or a certificate.
/// </summary>
public static class ClusterConnector
{
    /// <summary>How long the reachability probe may take in all; the CLI promises an answer within 30 s.</summary>
    public static readonly TimeSpan DefaultProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A client for <paramref name="connection"/>, its kubeconfig found as kubectl finds it (<see cref="KubeconfigOf"/>),
    /// else the in-cluster configuration (service account token and CA of the pod the harness runs in).
    /// </summary>
    /// <exception cref="ClusterUnreachableException">The kubeconfig cannot be read, or no in-cluster configuration exists.</exception>
    public static IKubernetes Create(KubernetesConnection connection)
    {
        connection = connection with { Kubeconfig = KubeconfigOf(connection) };
        KubernetesClientConfiguration config;
        try
        {
            if (connection.Kubeconfig is { } path)
            {
                if (!File.Exists(path)) throw new ClusterUnreachableException(path, $"kubeconfig {path} does not exist");
                config = KubernetesClientConfiguration.BuildConfigFromConfigFile(path, connection.Context);
            }
            else if (KubernetesClientConfiguration.IsInCluster())
                config = KubernetesClientConfiguration.InClusterConfig();
            else
                throw new ClusterUnreachableException("(none)",
                    "no kubeconfig given (target.kubernetes.kubeconfig) and not running inside a cluster");
        }
        catch (Exception e) when (e is KubeConfigException or YamlDotNet.Core.YamlException) // a file that is no kubeconfig at all
        {
            // The library's message names files and contexts, not secrets.
            throw new ClusterUnreachableException(connection.Kubeconfig ?? "(in-cluster)", "kubeconfig unusable: " + FirstLine(e.Message), e);
        }
        return Create(config);
    }

    /// <summary>As kubectl: the scenario's kubeconfig (~ is the home folder), else $KUBECONFIG, else ~/.kube/config; null when none exists.</summary>
    public static string? KubeconfigOf(KubernetesConnection connection)
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (connection.Kubeconfig is { } given)
            return given.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(home, given[2..]) : given;
        var fromEnv = Environment.GetEnvironmentVariable("KUBECONFIG")?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        var standard = Path.Combine(home, ".kube", "config");
        return fromEnv ?? (File.Exists(standard) ? standard : null);
    }

    /// <summary>A client for an explicit configuration (tests, or a caller with its own).</summary>
    public static IKubernetes Create(KubernetesClientConfiguration config)
    {
        // Bounded calls: a hung API server must not hang the run (watches carry their own timeoutSeconds).
        config.HttpClientTimeout = TimeSpan.FromMinutes(10);
        return new k8s.Kubernetes(config);
    }

    /// <summary>A client for a plain URL without credentials (tests, kubectl proxy).</summary>
    public static IKubernetes Create(Uri server) => Create(new KubernetesClientConfiguration { Host = server.ToString() });

    /// <summary>
    /// GET /version, then a one-item pod list in <paramref name="namespace"/> when given (so that a token without
    /// rights in the namespace is caught before any chaos), all within <paramref name="timeout"/>.
    /// </summary>
    /// <returns>The server's version, e.g. "v1.31.2".</returns>
    /// <exception cref="ClusterUnreachableException">With a one-line <see cref="ClusterUnreachableException.Reason"/>.</exception>
    public static async Task<string> ProbeAsync(IKubernetes client, string? @namespace = null, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var server = ServerOf(client);
        var bound = timeout ?? DefaultProbeTimeout;
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutSource.CancelAfter(bound);
        try
        {
            var version = await client.Version.GetCodeAsync(timeoutSource.Token).ConfigureAwait(false);
            if (@namespace is not null)
                await client.CoreV1.ListNamespacedPodAsync(@namespace, limit: 1, cancellationToken: timeoutSource.Token).ConfigureAwait(false);
            return version.GitVersion ?? "unknown";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ClusterUnreachableException(server, $"no answer within {bound.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ClusterUnreachableException(server, Describe(e, @namespace), e);
        }
    }

    /// <summary>One line saying why a call failed: connection refused, DNS, TLS, 401/403 and the like.</summary>
    internal static string Describe(Exception e, string? @namespace = null)
    {
        switch (e)
        {
            case HttpOperationException http:
                var status = (int)http.Response.StatusCode;
                var detail = ApiErrors.StatusMessage(http);
                return status switch
                {
                    401 => "401 Unauthorized: the credentials were refused (expired token or certificate?)",
                    403 => $"403 Forbidden: {detail ?? "the account may not do this"}" +
                           (@namespace is null ? "" : $" (needs list/watch/delete pods and patch deployments in namespace {@namespace})"),
                    _ => $"{status} {http.Response.ReasonPhrase}{(detail is null ? "" : ": " + detail)}",
                };
            case HttpRequestException { InnerException: SocketException s }:
                return s.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host name not found (DNS)",
                    SocketError.TimedOut => "connection timed out",
                    SocketError.NetworkUnreachable or SocketError.HostUnreachable => "network unreachable",
                    _ => "network error: " + s.SocketErrorCode,
                };
            case HttpRequestException { InnerException: AuthenticationException a }:
                return "TLS handshake failed: " + FirstLine(a.Message) + " (wrong CA, or the server's certificate does not name this host?)";
            case HttpRequestException h when h.HttpRequestError == HttpRequestError.NameResolutionError:
                return "host name not found (DNS)";
            case HttpRequestException h when h.HttpRequestError == HttpRequestError.SecureConnectionError:
                return "TLS handshake failed";
            case HttpRequestException h:
                return FirstLine(h.InnerException?.Message ?? h.Message);
            case KubeConfigException k:
                return "kubeconfig unusable: " + FirstLine(k.Message);
            default:
                return FirstLine(e.Message);
        }
    }

    internal static string ServerOf(IKubernetes client) => client.BaseUri?.ToString().TrimEnd('/') ?? "(unknown server)";

    private static string FirstLine(string text)
    {
        var i = text.IndexOfAny(['\r', '\n']);
        return (i < 0 ? text : text[..i]).Trim();
    }
}

/// <summary>The API server could not be reached or refused the harness; <see cref="Reason"/> is one line for the user.</summary>
public sealed class ClusterUnreachableException(string server, string reason, Exception? inner = null)
    : Exception($"cannot reach the Kubernetes API server at {server}: {reason}", inner)
{
    public string Server { get; } = server;
    public string Reason { get; } = reason;
}

/// <summary>Reads the Status object the API server sends with an error.</summary>
internal static class ApiErrors
{
    public static HttpStatusCode? StatusCodeOf(Exception e) => e is HttpOperationException h ? h.Response.StatusCode : null;

    public static bool IsStatus(Exception e, HttpStatusCode code) => StatusCodeOf(e) == code;

    /// <summary>The message of the Status body (e.g. 'pods "x" is forbidden: ...'), when there is one.</summary>
    public static string? StatusMessage(HttpOperationException e)
    {
        var content = e.Response.Content;
        if (string.IsNullOrWhiteSpace(content)) return null;
        try
        {
            var status = KubernetesJson.Deserialize<k8s.Models.V1Status>(content);
            return string.IsNullOrEmpty(status?.Message) ? null : status.Message;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>One line for an audit entry or a log.</summary>
    public static string Describe(Exception e) => ClusterConnector.Describe(e);
}
