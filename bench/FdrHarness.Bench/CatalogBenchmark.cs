using System.Diagnostics;
using System.Globalization;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Catalog;
using FdrHarness.Rucio.Double;
using FdrHarness.Rucio.Rest;
using MathNet.Numerics.Statistics;

/// <summary>
/// rucio-catalog: files registered through <see cref="RucioCatalog.RegisterReplicasAsync"/> (chunks, rounds, splitting)
/// beside a plain loop of the same POST /replicas calls with the same chunk size and concurrency (the ceiling), against
/// the Rucio double and against the HTTP sink, each server in its own process and started afresh for every measurement.
/// Besides the rate, each measurement's CPU time of this process (the client side alone: the servers run in their own) per
/// file: on a loaded machine the rate says much about the neighbours, the CPU per file what the harness spends.
/// </summary>
internal static class CatalogBenchmark
{
    private const string Password = "bench-password";

    /// <summary>One measurement: one side against a fresh server.</summary>
    private readonly record struct Sample(double Rate, double ClientNs, double ServerNs, double Bytes, (long Requests, long Connections, long Bytes)? Received);

    public static int Run(string[] args)
    {
        var o = new Options(args);
        if (args.Contains("--tune")) return Tune(o);
        var files = (int)o.Long("files", 100_000);
        var chunk = (int)o.Long("chunk", 500);
        var concurrency = (int)o.Long("concurrency", 8);
        var pairs = (int)o.Long("pairs", o.Long("runs", 9));
        var repeat = (int)o.Long("repeat", 1); // the list sent this many times a measurement (the sink only: the double would skip what it has)
        var margin = double.Parse(o.Text("margin", "0.02"), CultureInfo.InvariantCulture); // non-inferiority: how much slower "not slower" allows
        var aa = o.Long("aa", 1) != 0; // a control pair (the plain loop on both sides) beside every pair: the bench's own spread
        var targets = o.Text("targets", "rucio-double,http-sink").Split(',');
        var only = o.Text("only", "") is "catalog" or "loop" ? o.Text("only", "") : null; // one side alone (for a profiler)
        Console.WriteLine($"rucio-catalog: {files:N0} files{(repeat > 1 ? $" (sent {repeat} times a measurement to the sink)" : "")}, chunks of {chunk}, concurrency {concurrency}, {Environment.ProcessorCount} cores, {pairs} pairs{(aa ? " and as many A/A control pairs" : "")}; " +
            $"servers in their own process, compiled fully optimised from the start, fresh for each measurement and warmed with {ServerWarmupChunks(concurrency)} unmeasured calls of other files; load {Machine.LoadAverage(3)}" +
            (Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") == "0" ? "; this process JIT-compiled fully optimised from the first call (DOTNET_TieredCompilation=0)" : ""));
        var list = Enumerable.Range(0, files).Select(i => new NewReplica("cta", $"cta.raw.{i:D9}.fits", 1_000_000 + i, "0cc737eb")).ToList();
        Sample M(string target, bool catalog) => Measure(target, catalog, list, chunk, concurrency, target == "http-sink" ? repeat : 1);

        // Warm-up, not measured: whole measurements, alternated like the measured ones, until the background JIT is done
        // with both paths (tier 1 and PGO of every instantiation: at load 20-25 here that took about 20 rounds; with a
        // shorter warm-up it was still compiling hundreds of methods a round during the measurements, and charged them).
        WarmUp((int)o.Long("warmup", 40), () =>
        {
            foreach (var target in targets)
                foreach (var catalog in new[] { false, true }.Where(c => only is null || c == (only == "catalog")))
                    M(target, catalog);
        });
        var jitBefore = System.Runtime.JitInfo.GetCompilationTime();

        // Pairs: the two measurements of a pair run back to back, so that the load they meet is as alike as it gets; the
        // order within a pair turns round every other pair (A B, B A), so that what the first leaves behind (or the load's
        // drift) falls on both sides alike; the ratio is taken within each pair. The control pairs run the plain loop in
        // both places, in the same order and alternation: their ratios are what the bench reads when there is no difference.
        var ab = targets.ToDictionary(t => t, _ => new List<(Sample Loop, Sample Catalog)>());
        var control = targets.ToDictionary(t => t, _ => new List<(Sample Loop, Sample Catalog)>());
        for (var r = 0; r < pairs; r++)
        {
            var line = new List<string>();
            foreach (var target in targets)
            {
                if (only is not null)
                {
                    var one = M(target, only == "catalog");
                    line.Add($"{target} {only} {one.Rate:N0} files/s");
                    continue;
                }
                foreach (var isControl in (r % 4 < 2 ? new[] { false, true } : [true, false]).Where(c => aa || !c))
                {
                    Sample loop, catalog;
                    if (r % 2 == 0)
                    {
                        loop = M(target, false);
                        catalog = M(target, !isControl);
                    }
                    else
                    {
                        catalog = M(target, !isControl);
                        loop = M(target, false);
                    }
                    (isControl ? control : ab)[target].Add((loop, catalog));
                    line.Add($"{target}{(isControl ? " A/A" : "")} {(r % 2 == 0 ? "loop first" : "second first")}: loop {Describe(loop)}, {(isControl ? "loop again" : "catalog")} {Describe(catalog)}, {catalog.Rate / loop.Rate:0.00}x");
                }
            }
            Console.WriteLine($"pair {r + 1} (load {Machine.LoadAverage()}): " + string.Join("; ", line));
        }
        Console.WriteLine($"JIT during the measured runs: {(System.Runtime.JitInfo.GetCompilationTime() - jitBefore).TotalMilliseconds:N0} ms; load {Machine.LoadAverage(3)}");
        foreach (var target in only is null ? targets : [])
        {
            var p = ab[target];
            Console.WriteLine($"{target}, {p.Count} pairs: catalog/loop by rate {Spread(p.Select(x => x.Catalog.Rate / x.Loop.Rate))}, catalog faster in {p.Count(x => x.Catalog.Rate > x.Loop.Rate)} of {p.Count}" +
                (control[target] is { Count: > 0 } c ? $"; A/A (loop/loop) {Spread(c.Select(x => x.Catalog.Rate / x.Loop.Rate))}" : ""));
            if (control[target] is { Count: > 0 } yardstick)
            {
                // The A/A pairs, measured interleaved with the others under the same load, are the yardstick: their ratios are
                // what the bench reads with no difference at all. The catalog's ratio is their shift over the A/A's, with the
                // confidence interval Mann-Whitney's test gives (so it is as wide as the A/A's spread makes it: under a
                // changing load a bootstrap of the catalog's pairs alone was too narrow, the A/A median wandering 0.83-1.17x).
                var (shift, low, high) = ShiftOverControl([.. p.Select(x => x.Catalog.Rate / x.Loop.Rate)], [.. yardstick.Select(x => x.Catalog.Rate / x.Loop.Rate)]);
                Console.WriteLine($"  verdict: catalog/loop over the A/A {shift:0.000}x (95 % CI {low:0.000}-{high:0.000}; Hodges-Lehmann, Moses): " +
                    (low >= 1 ? ">= 1.0x shown (faster beyond the bench's own spread)"
                    : high < 1 ? "slower than the loop, shown"
                    : low >= 1 - margin ? $">= 1.0x within the margin: not slower than the loop by more than {margin:0%} (non-inferiority shown at 97.5 %); faster not shown"
                    : $"not shown: the interval reaches below {1 - margin:0.00}x (more pairs or a quieter machine)"));
            }
            Console.WriteLine($"  rates (medians): catalog {Statistics.Median(p.Select(x => x.Catalog.Rate)):N0} files/s, loop {Statistics.Median(p.Select(x => x.Loop.Rate)):N0}");
            Console.WriteLine($"  client CPU ns/file: catalog {Statistics.Median(p.Select(x => x.Catalog.ClientNs)):N0}, loop {Statistics.Median(p.Select(x => x.Loop.ClientNs)):N0}, per pair catalog/loop {Spread(p.Select(x => x.Catalog.ClientNs / x.Loop.ClientNs))}" +
                (control[target] is { Count: > 0 } c1 ? $"; A/A {Spread(c1.Select(x => x.Catalog.ClientNs / x.Loop.ClientNs))}" : ""));
            Console.WriteLine($"  server CPU ns/file: catalog {Statistics.Median(p.Select(x => x.Catalog.ServerNs)):N0}, loop {Statistics.Median(p.Select(x => x.Loop.ServerNs)):N0}, per pair catalog/loop {Spread(p.Select(x => x.Catalog.ServerNs / x.Loop.ServerNs))}" +
                (control[target] is { Count: > 0 } c2 ? $"; A/A {Spread(c2.Select(x => x.Catalog.ServerNs / x.Loop.ServerNs))}" : ""));
            // Both processes' CPU per file: what the machine spends per file whatever share of it the neighbours leave; on a
            // machine where the client and the server are the only work, the rate goes as its inverse.
            Console.WriteLine($"  client + server CPU ns/file: catalog {Statistics.Median(p.Select(x => x.Catalog.ClientNs + x.Catalog.ServerNs)):N0}, loop {Statistics.Median(p.Select(x => x.Loop.ClientNs + x.Loop.ServerNs)):N0}, " +
                $"per pair loop/catalog (higher: the catalog spends less) {Spread(p.Select(x => (x.Loop.ClientNs + x.Loop.ServerNs) / (x.Catalog.ClientNs + x.Catalog.ServerNs)))}" +
                (control[target] is { Count: > 0 } c3 ? $"; A/A {Spread(c3.Select(x => (x.Loop.ClientNs + x.Loop.ServerNs) / (x.Catalog.ClientNs + x.Catalog.ServerNs)))}" : ""));
            Console.WriteLine($"  allocated B/file: catalog {Statistics.Median(p.Select(x => x.Catalog.Bytes)):N0}, loop {Statistics.Median(p.Select(x => x.Loop.Bytes)):N0}");
            if (p.Select(x => x.Catalog.Received).FirstOrDefault() is not null)
            {
                var calls = p.SelectMany(x => new[] { x.Catalog.Received!.Value, x.Loop.Received!.Value }).ToList();
                var same = p.All(x => x.Catalog.Received!.Value.Requests == x.Loop.Received!.Value.Requests && x.Catalog.Received.Value.Bytes == x.Loop.Received.Value.Bytes);
                Console.WriteLine($"  the sink received: catalog {Statistics.Median(p.Select(x => (double)x.Catalog.Received!.Value.Requests)):N0} requests, {Statistics.Median(p.Select(x => (double)x.Catalog.Received!.Value.Bytes)):N0} bytes, {Statistics.Median(p.Select(x => (double)x.Catalog.Received!.Value.Connections)):N0} connections; " +
                    $"loop {Statistics.Median(p.Select(x => (double)x.Loop.Received!.Value.Requests)):N0} requests, {Statistics.Median(p.Select(x => (double)x.Loop.Received!.Value.Bytes)):N0} bytes, {Statistics.Median(p.Select(x => (double)x.Loop.Received!.Value.Connections)):N0} connections" +
                    (same ? " (the same requests and bytes in every pair)" : " (NOT the same requests and bytes)"));
            }
        }
        return 0;
    }

    private static string Describe(Sample s) =>
        $"{s.Rate:N0} files/s ({s.ClientNs:N0} ns client CPU, {s.ServerNs:N0} ns server CPU, {s.Bytes:N0} B allocated per file)";

    /// <summary>"0.98x (quartiles 0.93-1.04, range 0.81-1.20)": the median of the per-pair ratios and how far they spread.</summary>
    private static string Spread(IEnumerable<double> ratios)
    {
        var r = ratios.ToArray();
        return $"{Statistics.Median(r):0.00}x (quartiles {Statistics.LowerQuartile(r):0.00}-{Statistics.UpperQuartile(r):0.00}, range {r.Min():0.00}-{r.Max():0.00})";
    }

    /// <summary>
    /// How far the catalog's pair ratios lie above the A/A pairs', as a ratio: the median of all differences of their logs
    /// (Hodges-Lehmann) and the 95 % confidence interval of that shift (Moses: the differences Mann-Whitney's test at 5 %
    /// does not cut off at either end; distribution-free, the pairs taken as independent).
    /// </summary>
    private static (double Shift, double Low, double High) ShiftOverControl(double[] ratios, double[] control)
    {
        var d = new double[ratios.Length * control.Length];
        var k = 0;
        foreach (var x in ratios)
            foreach (var y in control) d[k++] = Math.Log(x) - Math.Log(y);
        Array.Sort(d);
        var (n1, n2) = ((double)ratios.Length, (double)control.Length);
        var cut = (int)Math.Floor(n1 * n2 / 2 - 1.96 * Math.Sqrt(n1 * n2 * (n1 + n2 + 1) / 12));
        var shift = Math.Exp(Statistics.Median(d));
        // Too few pairs for any interval at 95 % (three or fewer a side): it is unbounded.
        return cut < 1 ? (shift, 0, double.PositiveInfinity) : (shift, Math.Exp(d[cut - 1]), Math.Exp(d[^cut]));
    }

    /// <summary>Unmeasured calls to a fresh server before the measured ones: its connections open and its code compiled.</summary>
    private static int ServerWarmupChunks(int concurrency) => 2 * concurrency;

    /// <summary>
    /// `rucio-catalog --tune [--chunks 100,250,500,1000] [--concurrencies 1,2,4,8,16,32] [--files N] [--runs R] [--targets rucio-double,http-sink]`:
    /// the catalog path alone at each chunk size and number of calls in flight, against each server (fresh per measurement),
    /// the combinations alternated within each run: where the rate stops growing, the server is the limit.
    /// </summary>
    private static int Tune(Options o)
    {
        var files = (int)o.Long("files", 100_000);
        var runs = (int)o.Long("runs", 3);
        var chunks = o.Text("chunks", "100,250,500,1000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var concurrencies = o.Text("concurrencies", "1,2,4,8,16,32").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var targets = o.Text("targets", "rucio-double,http-sink").Split(',');
        Console.WriteLine($"rucio-catalog --tune: {files:N0} files, chunks {string.Join('/', chunks)}, in flight {string.Join('/', concurrencies)}, {Environment.ProcessorCount} cores, {runs} runs");
        var list = Enumerable.Range(0, files).Select(i => new NewReplica("cta", $"cta.raw.{i:D9}.fits", 1_000_000 + i, "0cc737eb")).ToList();
        WarmUp((int)o.Long("warmup", 40), () => { foreach (var target in targets) Measure(target, true, list, 500, 8); });
        var rates = new Dictionary<(string, int, int), List<(double Rate, double Cpu)>>();
        for (var r = 0; r < runs; r++)
            foreach (var target in targets)
                foreach (var chunk in chunks)
                    foreach (var c in concurrencies)
                    {
                        var m = Measure(target, true, list, chunk, c);
                        (rates.TryGetValue((target, chunk, c), out var l) ? l : rates[(target, chunk, c)] = []).Add((m.Rate, m.ClientNs));
                    }
        foreach (var target in targets)
        {
            Console.WriteLine($"{target}: median files/s (client CPU ns/file) by chunk (rows) and calls in flight (columns)");
            Console.WriteLine("chunk / in flight" + string.Join("", concurrencies.Select(c => $"{c,20}")));
            foreach (var chunk in chunks)
                Console.WriteLine($"{chunk,16}" + string.Join("", concurrencies.Select(c =>
                    $"{$"{Statistics.Median(rates[(target, chunk, c)].Select(x => x.Rate)):N0} ({Statistics.Median(rates[(target, chunk, c)].Select(x => x.Cpu)):N0})",20}")));
        }
        return 0;
    }

    private static Sample Measure(string target, bool catalog, List<NewReplica> files, int chunk, int concurrency, int repeat = 1)
    {
        GC.Collect(); // the garbage of the measurement before is not this one's
        // A fresh server under tiered compilation spent 200-530 ms of its ~1 s of CPU in a measurement of the double in its
        // JIT (tier 1 of what the warm-up had made hot), whenever that fell: compiled fully optimised from the start, 30 ms.
        using var server = RucioBenchmarks.SinkProcess.Start(target, optimisedFromStart: true);
        var url = new Uri($"http://127.0.0.1:{server.Port}");
        using var client = new RucioClient(new RucioClientOptions
        {
            Url = url,
            Auth = target == "http-sink"
                ? new RucioAuth { Method = AuthMethod.Token, TokenEnv = "T" }
                : new RucioAuth { Method = AuthMethod.Userpass, Username = "ddmlab", PasswordEnv = "P" },
            Env = n => n switch { "T" => "root-bench-" + new string('x', 32), "P" => Password, _ => null },
            MaxConnections = concurrency * 2,
        });
        client.AuthenticateNowAsync().GetAwaiter().GetResult();
        // The fresh server's first calls (its JIT, its connections) are not the measurement: the same unmeasured calls, of
        // other files, through the same path, before either side.
        var warm = Enumerable.Range(0, ServerWarmupChunks(concurrency) * chunk).Select(i => new NewReplica("cta", $"cta.warm.{i:D9}.fits", 1_000 + i, "0cc737eb")).ToList();
        Send(client, catalog, warm, chunk, concurrency);
        var before = server.Stats();
        var (cpu0, allocated0) = (Environment.CpuUsage.TotalTime, GC.GetTotalAllocatedBytes(precise: true));
        var sw = Stopwatch.StartNew();
        for (var k = 0; k < repeat; k++) Send(client, catalog, files, chunk, concurrency);
        var wall = sw.Elapsed.TotalSeconds;
        var (cpu, allocated) = (Environment.CpuUsage.TotalTime - cpu0, GC.GetTotalAllocatedBytes(precise: true) - allocated0);
        var after = server.Stats();
        (long, long, long)? received = after.Received is { } a && before.Received is { } b ? (a.Requests - b.Requests, a.Connections - b.Connections, a.Bytes - b.Bytes) : null;
        var sent = (double)files.Count * repeat;
        return new Sample(sent / wall, cpu.TotalSeconds * 1e9 / sent, (after.Cpu - before.Cpu).TotalSeconds * 1e9 / sent, allocated / sent, received);
    }

    /// <summary>The files through the catalog operations (as PlanExecutor calls them) or through the plain loop of the same calls.</summary>
    private static void Send(RucioClient client, bool catalog, List<NewReplica> files, int chunk, int concurrency)
    {
        if (catalog)
        {
            var results = new RucioCatalog(client, new CatalogOptions { ReplicaChunk = chunk, Concurrency = concurrency })
                .RegisterReplicasAsync("MOCK", files).GetAwaiter().GetResult();
            // What PlanExecutor reads: the failures only (none here).
            if (results.Count != files.Count || !results.AllOk) throw new InvalidOperationException($"{results.Failures.Count()} files not registered");
        }
        else
        {
            Parallel.ForEachAsync(Enumerable.Range(0, (files.Count + chunk - 1) / chunk), new ParallelOptions { MaxDegreeOfParallelism = concurrency },
                async (i, ct) => await client.AddReplicasAsync("MOCK", files.GetRange(i * chunk, Math.Min(chunk, files.Count - i * chunk)), ct: ct)).GetAwaiter().GetResult();
        }
    }

    /// <summary>Rounds until one spends under 2 % of its CPU in the JIT, at most <paramref name="max"/>.</summary>
    private static void WarmUp(int max, Action round)
    {
        for (var w = 0; w < max; w++)
        {
            var (jitStart, cpuStart, methodsStart) = (System.Runtime.JitInfo.GetCompilationTime(), CpuNow(), System.Runtime.JitInfo.GetCompiledMethodCount());
            round();
            var (jit, spent) = (System.Runtime.JitInfo.GetCompilationTime() - jitStart, CpuNow() - cpuStart);
            var methods = System.Runtime.JitInfo.GetCompiledMethodCount() - methodsStart;
            if (jit < spent * 0.02 || w == max - 1)
            {
                Console.WriteLine($"warm-up: {w + 1} rounds; the last {jit.TotalMilliseconds:N0} ms of {spent.TotalMilliseconds:N0} ms CPU in the JIT ({methods:N0} methods)");
                return;
            }
        }
    }

    private static TimeSpan CpuNow() => Environment.CpuUsage.TotalTime;

    /// <summary>`rucio-double`: the double with RSE MOCK (davs, QOS=FAST) and scope cta, its port on stdout, until stdin closes.</summary>
    public static int ServeDouble()
    {
        var server = RucioDouble.StartAsync(new RucioDoubleOptions { Password = Password, RecordRequests = false }).GetAwaiter().GetResult();
        server.AddRse("MOCK", new Dictionary<string, string> { ["QOS"] = "FAST" }, new DoubleProtocol("davs", "storage.example", 2880, "/data"));
        server.AddScope("cta");
        Console.WriteLine(server.Url.Port.ToString(CultureInfo.InvariantCulture));
        Console.Out.Flush();
        RucioBenchmarks.AnswerStats();
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }
}
