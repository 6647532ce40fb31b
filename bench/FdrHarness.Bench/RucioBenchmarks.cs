using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Catalog;
using FdrHarness.Rucio.Rest;
using FdrHarness.Rucio.Stomp;
using MathNet.Numerics.Statistics;

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
        var seconds = (int)o.Long("wrk-seconds", 5);
        var runs = (int)o.Long("runs", 5);
        // The sink runs in its own process, as a server would: wrk and the harness then meet the same sink on equal terms
        // (in-process, the harness's own garbage collections would pause the sink it is measured against).
        using var sink = SinkProcess.Start();
        var url = new Uri($"http://127.0.0.1:{sink.Port}");
        Console.WriteLine($"rucio-register: {files:N0} files, batches of {batch}, concurrency {concurrency}, sink {url} (own process), {Environment.ProcessorCount} cores, {runs} runs");

        var token = "root-bench-" + new string('x', 32);
        using var client = new RucioClient(new RucioClientOptions
        {
            Url = url,
            Auth = new RucioAuth { Method = AuthMethod.Token, TokenEnv = "T" },
            Env = n => n == "T" ? token : null,
            MaxConnections = concurrency * 2,
        });
        NewReplica File(long i) => new("cta", $"cta.raw.{i:D9}.fits", 1_000_000 + i, "0cc737eb");
        var fixedBody = RucioClient.ReplicasBody("ALPHA-DISK", [.. Enumerable.Range(0, batch).Select(i => File(i))], false);
        var script = Path.Combine(Path.GetTempPath(), "fdr-wrk-replicas.lua");
        System.IO.File.WriteAllText(script,
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"X-Rucio-Auth-Token\"] = \"" + token + "\"\n" +
            "wrk.body = [==[" + Encoding.UTF8.GetString(fixedBody.Span) + "]==]\n");
        // Warm-up (JIT, connections), not measured.
        client.AddReplicasAsync("ALPHA-DISK", [.. Enumerable.Range(0, batch).Select(i => File(i))]).GetAwaiter().GetResult();
        Registration(client, files / 4, batch, concurrency, File);
        Prebuilt(client, fixedBody, 5000, concurrency);

        var building = new List<(double Files, double Rps)>();
        var prebuilt = new List<double>();
        var wrk = new List<double>();
        for (var r = 0; r < runs; r++)
        {
            // Alternated, so that a change in the machine's load falls on all three alike.
            building.Add(Registration(client, files, batch, concurrency, File));
            prebuilt.Add(Prebuilt(client, fixedBody, Math.Max(20_000, files / batch * 10), concurrency));
            if (Wrk(script, url, concurrency, seconds) is { } w) wrk.Add(w);
            var line = $"run {r + 1}: harness {building[^1].Files:N0} files/s = {building[^1].Rps:N0} requests/s building each body, {prebuilt[^1]:N0} requests/s with the body built ahead";
            Console.WriteLine(wrk.Count > r ? line + $"; wrk {wrk[^1]:N0} requests/s" : line);
        }
        var (filesPerSecond, harnessRps, rawRps) = (Statistics.Median(building.Select(b => b.Files)), Statistics.Median(building.Select(b => b.Rps)), Statistics.Median(prebuilt));
        Console.WriteLine($"median: harness {filesPerSecond:N0} files/s, {harnessRps:N0} requests/s building each body, {rawRps:N0} requests/s with the body built ahead");
        if (wrk.Count == 0)
        {
            Console.WriteLine("wrk: not installed (scripts/bench-rucio.sh installs Debian's wrk)");
            return filesPerSecond >= 100_000 ? 0 : 1;
        }
        var wrkRps = Statistics.Median(wrk);
        Console.WriteLine($"median: wrk {wrkRps:N0} requests/s; harness/wrk = {harnessRps / wrkRps:0.00} building each body, {rawRps / wrkRps:0.00} with the body built ahead (same body, same sink, {concurrency} connections)");
        var ok = filesPerSecond >= 100_000 && rawRps >= 0.5 * wrkRps;
        Console.WriteLine(ok ? "PASS: >= 100,000 files/s and >= 0.5x wrk's request rate (same body)" : "BELOW TARGET: 100,000 files/s and 0.5x wrk (same body)");
        return ok ? 0 : 1;
    }

    /// <summary>
    /// The live target's registration path: the catalog operations (<see cref="RucioCatalog.RegisterReplicasAsync"/>, as
    /// PlanExecutor calls them), a body built per chunk from the files, the client stack. Files are handed over in slices
    /// of 100 chunks so that 2 M files are never listed at once.
    /// </summary>
    private static (double Files, double Rps) Registration(RucioClient client, long files, int batch, int concurrency, Func<long, NewReplica> file)
    {
        var catalog = new RucioCatalog(client, new CatalogOptions { ReplicaChunk = batch, Concurrency = concurrency });
        var slice = (long)batch * 100;
        long calls = 0;
        var sw = Stopwatch.StartNew();
        for (long first = 0; first < files; first += slice)
        {
            var list = new NewReplica[Math.Min(slice, files - first)];
            for (var i = 0; i < list.Length; i++) list[i] = file(first + i);
            var results = catalog.RegisterReplicasAsync("ALPHA-DISK", list).GetAwaiter().GetResult();
            if (results.Failures.Count() is var failed && failed > 0) throw new InvalidOperationException($"{failed} files not registered");
            calls += (list.Length + batch - 1) / batch;
        }
        sw.Stop();
        return (files / sw.Elapsed.TotalSeconds, calls / sw.Elapsed.TotalSeconds);
    }

    /// <summary>The same client stack sending one body built ahead, <paramref name="concurrency"/> calls at a time, as wrk does: the HTTP path alone.</summary>
    private static double Prebuilt(RucioClient client, ReadOnlyMemory<byte> body, long calls, int concurrency)
    {
        var sw = Stopwatch.StartNew();
        Parallel.ForEachAsync(LongRange(calls), new ParallelOptions { MaxDegreeOfParallelism = concurrency },
            async (_, ct) => await client.AddReplicasAsync(body, ct).ConfigureAwait(false)).GetAwaiter().GetResult();
        sw.Stop();
        return calls / sw.Elapsed.TotalSeconds;
    }

    private static IEnumerable<long> LongRange(long n)
    {
        for (long i = 0; i < n; i++) yield return i;
    }

    /// <summary>wrk with the same body, the same sink and the same connection count; null when wrk is not installed.</summary>
    private static double? Wrk(string script, Uri url, int concurrency, int seconds)
    {
        try
        {
            var psi = new ProcessStartInfo("wrk", $"-t1 -c{concurrency} -d{seconds}s -s {script} {url}replicas") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("Requests/sec:", StringComparison.Ordinal));
            if (line is null) throw new InvalidOperationException("wrk said: " + output.Trim());
            return double.Parse(line["Requests/sec:".Length..].Trim(), CultureInfo.InvariantCulture);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>`http-sink`: the sink in this process, its port on stdout, until stdin closes (the parent ended).</summary>
    /// <summary>
    /// `http-sink`: the sink in this process, its port on stdout, until stdin closes (the parent ended). A line "stats" on
    /// stdin is answered with its CPU time so far (ticks of 100 ns, from getrusage) and what it received: requests,
    /// connections accepted, request bytes (heads and bodies).
    /// </summary>
    public static int ServeSink()
    {
        using var sink = new HttpSink();
        Console.WriteLine(sink.Port.ToString(CultureInfo.InvariantCulture));
        Console.Out.Flush();
        while (Console.In.ReadLine() is { } line)
            if (line == "stats")
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{Environment.CpuUsage.TotalTime.Ticks} {Interlocked.Read(ref sink.Requests)} {Interlocked.Read(ref sink.Connections)} {Interlocked.Read(ref sink.Bytes)}"));
                Console.Out.Flush();
            }
        return 0;
    }

    /// <summary>Answers "stats" lines on stdin with this process's CPU time (getrusage: microseconds), until stdin closes.</summary>
    internal static void AnswerStats()
    {
        while (Console.In.ReadLine() is { } line)
            if (line == "stats")
            {
                Console.WriteLine(Environment.CpuUsage.TotalTime.Ticks.ToString(CultureInfo.InvariantCulture));
                Console.Out.Flush();
            }
    }

    /// <summary>This benchmark program started again as a server verb (`http-sink`, `rucio-double`); ended with the benchmark.</summary>
    internal sealed class SinkProcess : IDisposable
    {
        private readonly Process _process;

        private SinkProcess(Process process, int port) => (_process, Port) = (process, port);

        public int Port { get; }

        /// <summary>
        /// The server's CPU time so far (user + system, getrusage's microseconds: /proc's ticks of 10 ms are too coarse for
        /// a sink that spends 100 ns a file) and, from the sink, what it received: requests, connections accepted, request
        /// bytes; null for a server that does not count them.
        /// </summary>
        public (TimeSpan Cpu, (long Requests, long Connections, long Bytes)? Received) Stats()
        {
            _process.StandardInput.WriteLine("stats");
            _process.StandardInput.Flush();
            var f = (_process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the server process ended")).Split(' ');
            long N(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
            return (TimeSpan.FromTicks(N(0)), f.Length >= 4 ? (N(1), N(2), N(3)) : null);
        }

        /// <param name="optimisedFromStart">The server compiles fully optimised from its first call (DOTNET_TieredCompilation=0);
        /// otherwise it runs as the runtime's default has it, whatever the benchmark itself was started with.</param>
        public static SinkProcess Start(string verb = "http-sink", bool optimisedFromStart = false)
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true };
            // Run as `dotnet FdrHarness.Bench.dll` or as the apphost: start the same way.
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") psi.ArgumentList.Add(typeof(RucioBenchmarks).Assembly.Location);
            psi.ArgumentList.Add(verb);
            if (optimisedFromStart) psi.Environment["DOTNET_TieredCompilation"] = "0";
            else psi.Environment.Remove("DOTNET_TieredCompilation");
            var p = Process.Start(psi)!;
            var port = int.Parse(p.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the sink process did not start"), CultureInfo.InvariantCulture);
            return new SinkProcess(p, port);
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000)) _process.Kill();
            _process.Dispose();
        }
    }

    private sealed class HttpSink : IDisposable
    {
        private static readonly byte[] Response = Encoding.ASCII.GetBytes(
            "HTTP/1.1 201 CREATED\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 7\r\n\r\nCreated");
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _cts = new();
        public long Requests, Connections, Bytes; // what came in (Interlocked)

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
                Interlocked.Increment(ref Connections);
                _ = Task.Run(() => ServeAsync(s));
            }
        }

        private async Task ServeAsync(Socket socket)
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
                        Interlocked.Increment(ref Requests);
                        Interlocked.Add(ref Bytes, end + 4 + skip);
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
