using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Load;
using FdrHarness.Rucio.Rest;
using FdrHarness.Rucio.Stomp;

/// <summary>
/// rucio-register: bulk replica registration (POST /replicas, 1000 files a call) against a local HTTP sink, then wrk sending
/// the same body to the same sink, side by side (hermes-consume: <see cref="HermesConsumeBenchmark"/>).
/// </summary>
internal static class RucioBenchmarks
{
    public static int Register(string[] args)
    {
        var o = new Options(args);
        var files = o.Long("files", 2_000_000);
        var batch = (int)o.Long("batch", 1000);
        var concurrency = (int)o.Long("concurrency", 8);
        var seconds = (int)o.Long("wrk-seconds", 10);
        using var sink = new HttpSink();
        var url = new Uri($"http://127.0.0.1:{sink.Port}");
        Console.WriteLine($"rucio-register: {files:N0} files, batches of {batch}, concurrency {concurrency}, sink {url}, {Environment.ProcessorCount} cores");

        var token = "root-bench-" + new string('x', 32);
        using var client = new RucioClient(new RucioClientOptions
        {
            Url = url,
            Auth = new RucioAuth { Method = AuthMethod.Token, TokenEnv = "T" },
            Env = n => n == "T" ? token : null,
            MaxConnections = concurrency * 2,
        });
        NewReplica File(long i) => new("cta", $"cta.raw.{i:D9}.fits", 1_000_000 + i, "0cc737eb");
        // Warm-up (JIT, connections), not measured.
        client.AddReplicasAsync("ALPHA-DISK", [.. Enumerable.Range(0, batch).Select(i => File(i))]).GetAwaiter().GetResult();

        var stats = new OperationStats();
        var engine = new LoadEngine(TimeProvider.System, stats, new LoadEngineOptions { Operation = "register", BatchSize = batch, Concurrency = concurrency, QueueLimit = int.MaxValue });
        var sw = Stopwatch.StartNew();
        var result = engine.RunAsync([new FdrHarness.Core.Planning.LoadTick(TimeSpan.Zero, files)], async (op, ct) =>
        {
            var list = new NewReplica[op.Count];
            for (var i = 0; i < list.Length; i++) list[i] = File(op.First + i);
            await client.AddReplicasAsync("ALPHA-DISK", list, ct: ct).ConfigureAwait(false);
            return OperationResult.Ok;
        }, CancellationToken.None).GetAwaiter().GetResult();
        sw.Stop();
        var calls = result.Ok;
        var harnessRps = calls / sw.Elapsed.TotalSeconds;
        var filesPerSecond = result.Items / sw.Elapsed.TotalSeconds;
        var s = stats.Summary("register")!;
        Console.WriteLine($"harness: {result.Items:N0} files in {sw.Elapsed.TotalSeconds:0.00} s = {filesPerSecond:N0} files/s, {harnessRps:N0} requests/s, failed {result.Failed}, p50 {s.P50Ms:0.0} ms, p99 {s.P99Ms:0.0} ms");

        // The same client stack sending one body built ahead, as wrk does: the HTTP path alone (Polly, headers, token).
        var fixedBody = RucioClient.ReplicasBody("ALPHA-DISK", [.. Enumerable.Range(0, batch).Select(i => File(i))], false);
        var rawStats = new OperationStats();
        var rawEngine = new LoadEngine(TimeProvider.System, rawStats, new LoadEngineOptions { Operation = "raw", BatchSize = 1, Concurrency = concurrency, QueueLimit = int.MaxValue });
        var rawCalls = Math.Max(5000, files / batch * 15); // long enough that JIT and connection set-up do not count
        sw.Restart();
        var raw = rawEngine.RunAsync([new FdrHarness.Core.Planning.LoadTick(TimeSpan.Zero, rawCalls)], async (op, ct) =>
        {
            await client.AddReplicasAsync(fixedBody, ct).ConfigureAwait(false);
            return OperationResult.Ok;
        }, CancellationToken.None).GetAwaiter().GetResult();
        sw.Stop();
        var rawRps = raw.Ok / sw.Elapsed.TotalSeconds;
        Console.WriteLine($"harness, body built ahead (as wrk): {raw.Ok:N0} requests in {sw.Elapsed.TotalSeconds:0.00} s = {rawRps:N0} requests/s, failed {raw.Failed}");

        // wrk: the same body, the same sink, the same connection count.
        var body = Encoding.UTF8.GetString(fixedBody.Span);
        var script = Path.Combine(Path.GetTempPath(), "fdr-wrk-replicas.lua");
        System.IO.File.WriteAllText(script,
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"X-Rucio-Auth-Token\"] = \"" + token + "\"\n" +
            "wrk.body = [==[" + body + "]==]\n");
        double? wrkRps = null;
        try
        {
            var psi = new ProcessStartInfo("wrk", $"-t{Math.Max(1, Environment.ProcessorCount / 2)} -c{concurrency} -d{seconds}s -s {script} {url}replicas")
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("Requests/sec:", StringComparison.Ordinal));
            if (line is not null) wrkRps = double.Parse(line["Requests/sec:".Length..].Trim(), CultureInfo.InvariantCulture);
            else Console.WriteLine(output.Trim());
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.WriteLine("wrk: not installed (scripts/bench-rucio.sh installs Debian's wrk)");
        }
        if (wrkRps is { } w)
            Console.WriteLine($"wrk:     {w:N0} requests/s; harness/wrk = {harnessRps / w:0.00} building each body, {rawRps / w:0.00} with the body built ahead");
        var ok = filesPerSecond >= 100_000 && (wrkRps is not { } x || rawRps >= 0.5 * x);
        Console.WriteLine(ok ? "PASS: >= 100,000 files/s and >= 0.5x wrk's request rate (same body)" : "BELOW TARGET: 100,000 files/s and 0.5x wrk (same body)");
        return ok ? 0 : 1;
    }

    /// <summary>A minimal HTTP/1.1 keep-alive sink answering every request as Rucio answers POST /replicas: 201 "Created".</summary>
    private sealed class HttpSink : IDisposable
    {
        private static readonly byte[] Response = Encoding.ASCII.GetBytes(
            "HTTP/1.1 201 CREATED\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 7\r\n\r\nCreated");
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _cts = new();

        public HttpSink()
        {
            _listener.Start(512);
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = Task.Run(AcceptAsync);
        }

        public int Port { get; }

        private async Task AcceptAsync()
        {
            while (!_cts.IsCancellationRequested)
            {
                Socket s;
                try { s = await _listener.AcceptSocketAsync(_cts.Token); }
                catch (Exception) { return; }
                s.NoDelay = true;
                _ = Task.Run(() => ServeAsync(s));
            }
        }

        private static async Task ServeAsync(Socket socket)
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 128 * 1024));
            long skip = 0; // body bytes still to discard
            try
            {
                while (true)
                {
                    var result = await reader.ReadAsync();
                    var buffer = result.Buffer;
                    var answers = 0;
                    while (true)
                    {
                        if (skip > 0)
                        {
                            var k = Math.Min(skip, buffer.Length);
                            buffer = buffer.Slice(k);
                            skip -= k;
                            if (skip > 0) break;
                            answers++;
                            continue;
                        }
                        var end = Find(buffer, "\r\n\r\n"u8);
                        if (end < 0) break;
                        var head = Encoding.ASCII.GetString(buffer.Slice(0, end).ToArray());
                        buffer = buffer.Slice(end + 4);
                        var i = head.IndexOf("Content-Length:", StringComparison.OrdinalIgnoreCase);
                        skip = i < 0 ? 0 : long.Parse(head.AsSpan(i + 15, head.IndexOf('\r', i) is var e && e > 0 ? e - i - 15 : head.Length - i - 15).Trim(), CultureInfo.InvariantCulture);
                        if (skip == 0) answers++;
                    }
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    for (var a = 0; a < answers; a++) await stream.WriteAsync(Response);
                    if (result.IsCompleted) return;
                }
            }
            catch (IOException) { }
        }

        private static long Find(ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> needle)
        {
            var reader = new SequenceReader<byte>(buffer);
            return reader.TryReadTo(out ReadOnlySequence<byte> before, needle, advancePastDelimiter: false) ? before.Length : -1;
        }

        public void Dispose()
        {
            _cts.Cancel();
            _listener.Stop();
        }
    }
}
