using System.Net;
using System.Net.Sockets;
using Prometheus;

namespace FdrHarness.Cli.Metrics;

/// <summary>The port could not be listened on (in use, not allowed).</summary>
public sealed class MetricsEndpointException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// http://*:PORT/metrics for <see cref="RunMetrics"/> (prometheus-net's HttpListener server). It counts the scrapes it
/// serves, so the run can wait for Prometheus by what Prometheus does instead of by the clock: a first scrape before
/// the run starts (rates have a zero to start from), two after it ends — a target's scrapes are sequential in
/// Prometheus, so the second one starting means the first, which carried the final values, has been stored.
/// </summary>
public sealed class MetricsEndpoint : IDisposable
{
    private readonly MetricServer _server;
    private readonly TimeProvider _time;
    private long _scrapes;
    private TaskCompletionSource _nextScrape = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private MetricsEndpoint(RunMetrics metrics, int port, TimeProvider time)
    {
        _time = time;
        metrics.Registry.AddBeforeCollectCallback(OnScrape);
        _server = new MetricServer("+", port, "metrics/", metrics.Registry);
    }

    public int Port { get; private init; }

    /// <summary>Scrapes served so far.</summary>
    public long Scrapes => Interlocked.Read(ref _scrapes);

    /// <summary>Listens on every interface (a pod's, a container's) at <paramref name="port"/>; 0 takes a free port.</summary>
    public static MetricsEndpoint Start(RunMetrics metrics, int port, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        if (port == 0) port = FreePort();
        var endpoint = new MetricsEndpoint(metrics, port, time ?? TimeProvider.System) { Port = port };
        try
        {
            endpoint._server.Start();
        }
        catch (HttpListenerException e)
        {
            endpoint.Dispose();
            throw new MetricsEndpointException(e.Message, e);
        }
        return endpoint;
    }

    /// <summary>Waits until <paramref name="count"/> scrapes have been served in all, at most <paramref name="timeout"/>; false when the time ran out.</summary>
    public async Task<bool> WaitForScrapesAsync(long count, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + timeout;
        while (true)
        {
            var next = Volatile.Read(ref _nextScrape).Task; // read before the count: a scrape in between completes this task
            if (Scrapes >= count) return true;
            var left = deadline - _time.GetUtcNow();
            if (left <= TimeSpan.Zero) return false;
            try
            {
                await next.WaitAsync(left, _time, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return Scrapes >= count;
            }
        }
    }

    private void OnScrape()
    {
        Interlocked.Increment(ref _scrapes);
        var done = Interlocked.Exchange(ref _nextScrape, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        done.TrySetResult();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose() => _server.Dispose();
}
