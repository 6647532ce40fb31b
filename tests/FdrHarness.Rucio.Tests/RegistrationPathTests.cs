using System.Net;
using System.Net.Sockets;
using System.Text;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Catalog;
using FdrHarness.Rucio.Double;
using FdrHarness.Rucio.Rest;

namespace FdrHarness.Rucio.Tests;

/// <summary>
/// Issue 18: registration through the catalog operations sends the calls a plain loop of POST /replicas sends (same
/// chunks, headers and bodies) and keeps as many in flight: a chunk starts as soon as any call in flight is answered.
/// </summary>
public sealed class RegistrationPathTests
{
    private static List<NewReplica> Files(int n) => [.. Enumerable.Range(0, n).Select(i => new NewReplica("cta", $"cta.raw.{i:D4}", 1000 + i, "0cc737eb"))];

    private static Task PlainLoop(RucioClient client, List<NewReplica> files, int chunk, int concurrency) =>
        Parallel.ForEachAsync(Enumerable.Range(0, (files.Count + chunk - 1) / chunk), new ParallelOptions { MaxDegreeOfParallelism = concurrency },
            async (i, ct) => await client.AddReplicasAsync("MOCK", files.GetRange(i * chunk, Math.Min(chunk, files.Count - i * chunk)), ct: ct));

    [Fact]
    public async Task The_catalog_sends_the_same_calls_as_a_plain_loop()
    {
        var files = Files(53);
        var seen = new List<List<string>>();
        foreach (var catalog in new[] { false, true })
        {
            await using var server = await DoubleWorld.StartAsync();
            using var client = DoubleWorld.Client(server);
            if (catalog) Assert.True((await new RucioCatalog(client, new CatalogOptions { ReplicaChunk = 7, Concurrency = 3 }).RegisterReplicasAsync("MOCK", files)).AllOk);
            else await PlainLoop(client, files, 7, 3);
            // Each call as the server saw it, but for the token and the port, which differ between two servers.
            seen.Add([.. server.Requests.Where(r => r.PathAndQuery != "/auth/userpass")
                .Select(r => $"{r.Method} {r.PathAndQuery} {r.ContentType}\n" +
                    string.Join("\n", r.Headers.Where(h => h.Key is not ("X-Rucio-Auth-Token" or "Host")).OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase).Select(h => $"{h.Key}: {h.Value}")) +
                    "\n" + r.Body)
                .Order(StringComparer.Ordinal)]);
        }
        Assert.Equal(8, seen[0].Count); // 53 files in chunks of 7
        Assert.All(seen[0], r => Assert.StartsWith("POST /replicas application/json", r, StringComparison.Ordinal));
        Assert.Equal(seen[0], seen[1]);
    }

    [Fact]
    public async Task Files_of_several_scopes_or_with_pfns_go_in_chunks_of_one_scope_without_the_pfns()
    {
        await using var server = await DoubleWorld.StartAsync();
        using var client = DoubleWorld.Client(server);
        // Scopes interleaved, one file carrying a pfn (Derived mode sends none), another scope that does not exist.
        var files = Enumerable.Range(0, 9).Select(i => new NewReplica(i % 3 == 0 ? "virgo" : i % 3 == 1 ? "cta" : "nosuch", $"mixed.{i}", 10 + i, "0cc737eb",
            Pfn: i == 4 ? "davs://elsewhere/x" : null)).ToList();
        var results = await new RucioCatalog(client, new CatalogOptions { ReplicaChunk = 2, Concurrency = 2 }).RegisterReplicasAsync("MOCK", files);
        Assert.Equal(["virgo", "virgo", "virgo", "cta", "cta", "cta", "nosuch", "nosuch", "nosuch"], results.Select(r => r.Item.Scope));
        Assert.All(results.Take(6), r => Assert.Equal(Outcome.Done, r.Outcome));
        Assert.All(results.Skip(6), r => Assert.StartsWith("404 ScopeNotFound", r.Reason, StringComparison.Ordinal));
        Assert.All(server.Requests.Where(r => r.PathAndQuery == "/replicas"), r =>
        {
            Assert.DoesNotContain("\"pfn\"", r.Body, StringComparison.Ordinal);
            Assert.Single(files.Select(f => f.Scope).Distinct(), scope => r.Body.Contains($"\"scope\":\"{scope}\"", StringComparison.Ordinal));
        });
        Assert.Equal(6, server.Snapshot().Replicas.Count(r => r.Did.Contains(":mixed.", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_list_of_one_scope_that_changes_later_is_sent_as_if_grouped_by_scope_from_the_start()
    {
        await using var server = await DoubleWorld.StartAsync();
        using var client = DoubleWorld.Client(server);
        // Chunks of 2 taken as the calls go out: the first two as given, then a file of another scope and one with a pfn.
        var files = Enumerable.Range(0, 8).Select(i => new NewReplica(i == 4 ? "virgo" : "cta", $"late.{i}", 10 + i, "0cc737eb",
            Pfn: i == 6 ? "davs://elsewhere/x" : null)).ToList();
        var results = await new RucioCatalog(client, new CatalogOptions { ReplicaChunk = 2, Concurrency = 2 }).RegisterReplicasAsync("MOCK", files);
        Assert.Equal([0, 1, 2, 3, 5, 6, 7, 4], results.Select(r => files.FindIndex(f => f.Name == r.Item.Name)));
        Assert.True(results.AllOk);
        Assert.Null(results[5].Item.Pfn);
        // The calls of chunks of one scope cut from the list grouped by scope: cta 0-1, 2-3, 5-6, 7; virgo 4.
        var calls = server.Requests.Where(r => r.PathAndQuery == "/replicas")
            .Select(r => string.Join(",", Enumerable.Range(0, 8).Where(i => r.Body.Contains($"\"late.{i}\"", StringComparison.Ordinal))))
            .Order(StringComparer.Ordinal);
        Assert.Equal(["0,1", "2,3", "4", "5,6", "7"], calls);
        Assert.All(server.Requests.Where(r => r.PathAndQuery == "/replicas"), r => Assert.DoesNotContain("\"pfn\"", r.Body, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_chunk_starts_as_soon_as_any_call_in_flight_is_answered(bool catalog)
    {
        // A server that answers a call only while `concurrency` calls wait for an answer (fewer at the end): a client that
        // sent in waves, or waited for the calls in order, would stall; one that keeps its window full finishes.
        const int concurrency = 3, chunk = 5;
        var files = Files(62); // 13 calls
        await using var server = new HoldingServer(concurrency, (files.Count + chunk - 1) / chunk);
        using var client = new RucioClient(new RucioClientOptions
        {
            Url = new Uri($"http://127.0.0.1:{server.Port}"),
            Auth = new RucioAuth { Method = AuthMethod.Token, TokenEnv = "T" },
            Env = n => n == "T" ? "root-test-token" : null,
            MaxRetries = 0,
            AttemptTimeout = TimeSpan.FromMinutes(5),
        });
        var work = catalog
            ? new RucioCatalog(client, new CatalogOptions { ReplicaChunk = chunk, Concurrency = concurrency }).RegisterReplicasAsync("MOCK", files)
            : PlainLoop(client, files, chunk, concurrency);
        var finished = await Task.WhenAny(work, server.Stalled);
        Assert.True(finished == work, $"stalled with {server.Held} calls waiting after {server.Answered} answers");
        if (work is Task<ItemResults<NewReplica>> results) Assert.True((await results).AllOk);
        Assert.Equal(13, server.Answered);
        Assert.Equal(concurrency, server.MostHeld); // the window was full, never more
    }

    /// <summary>
    /// HTTP/1.1 that holds every request and answers the oldest whenever `window` are held (or all that can still come):
    /// an answer is given only when the client has filled its window again. Stalled completes when no request came
    /// within a while after the last answer (a client not keeping its window full).
    /// </summary>
    private sealed class HoldingServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Queue<TaskCompletionSource> _held = new();
        private readonly int _window, _total;
        private readonly object _lock = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _version;

        public HoldingServer(int window, int total)
        {
            (_window, _total) = (window, total);
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = AcceptAsync();
        }

        public int Port { get; }
        public int Answered { get; private set; }
        public int MostHeld { get; private set; }
        public int Held { get { lock (_lock) return _held.Count; } }
        public Task Stalled => _stalled.Task;

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket s;
                try { s = await _listener.AcceptSocketAsync(_stop.Token); }
                catch (Exception) { return; }
                _ = ServeAsync(s);
            }
        }

        private async Task ServeAsync(Socket socket)
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            var buffer = new byte[1 << 20];
            var have = 0;
            try
            {
                while (true)
                {
                    int end;
                    while ((end = Encoding.ASCII.GetString(buffer, 0, have).IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
                    {
                        var k = await stream.ReadAsync(buffer.AsMemory(have), _stop.Token);
                        if (k == 0) return;
                        have += k;
                    }
                    var head = Encoding.ASCII.GetString(buffer, 0, end);
                    var at = head.IndexOf("Content-Length:", StringComparison.OrdinalIgnoreCase);
                    var length = at < 0 ? 0 : int.Parse(head[(at + 15)..].Split('\r')[0].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                    while (have < end + 4 + length)
                    {
                        var k = await stream.ReadAsync(buffer.AsMemory(have), _stop.Token);
                        if (k == 0) return;
                        have += k;
                    }
                    Array.Copy(buffer, end + 4 + length, buffer, 0, have - end - 4 - length);
                    have -= end + 4 + length;

                    var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    lock (_lock)
                    {
                        _held.Enqueue(answer);
                        MostHeld = Math.Max(MostHeld, _held.Count);
                        while (_held.Count > 0 && _held.Count >= Math.Min(_window, _total - Answered))
                        {
                            Answered++;
                            _held.Dequeue().SetResult();
                        }
                        _ = WatchAsync(++_version);
                    }
                    await answer.Task.WaitAsync(_stop.Token);
                    await stream.WriteAsync("HTTP/1.1 201 CREATED\r\nContent-Length: 7\r\n\r\nCreated"u8.ToArray(), _stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException) { }
        }

        /// <summary>No request for 60 s while some are held and more are due: the client stopped sending.</summary>
        private async Task WatchAsync(int version)
        {
            try { await Task.Delay(TimeSpan.FromSeconds(60), _stop.Token); }
            catch (OperationCanceledException) { return; }
            lock (_lock)
                if (version == _version && Answered < _total) _stalled.TrySetResult();
        }

        public ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            return ValueTask.CompletedTask;
        }
    }
}
