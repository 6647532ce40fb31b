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

    public static int Run(string[] args)
    {
        var o = new Options(args);
        if (args.Contains("--tune")) return Tune(o);
        var files = (int)o.Long("files", 100_000);
        var chunk = (int)o.Long("chunk", 500);
        var concurrency = (int)o.Long("concurrency", 8);
        var runs = (int)o.Long("runs", 5);
        var targets = o.Text("targets", "rucio-double,http-sink").Split(',');
        var only = o.Text("only", "") is "catalog" or "loop" ? o.Text("only", "") : null; // one side alone (for a profiler)
        Console.WriteLine($"rucio-catalog: {files:N0} files, chunks of {chunk}, concurrency {concurrency}, {Environment.ProcessorCount} cores, {runs} runs; servers in their own process, fresh for each measurement" +
            (Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") == "0" ? "; this process JIT-compiled fully optimised from the first call (DOTNET_TieredCompilation=0; the servers as by default)" : ""));
        var list = Enumerable.Range(0, files).Select(i => new NewReplica("cta", $"cta.raw.{i:D9}.fits", 1_000_000 + i, "0cc737eb")).ToList();

        // Warm-up, not measured: whole measurements, alternated like the measured ones, until the background JIT is done
        // with both paths (tier 1 and PGO of every instantiation: at load 20-25 here that took about 20 rounds; with a
        // shorter warm-up it was still compiling hundreds of methods a round during the measurements, and charged them).
        WarmUp((int)o.Long("warmup", 40), () =>
        {
            foreach (var target in targets)
                foreach (var catalog in new[] { false, true }.Where(c => only is null || c == (only == "catalog")))
                    Measure(target, catalog, list, chunk, concurrency);
        });
        var jitBefore = System.Runtime.JitInfo.GetCompilationTime();

        var results = new Dictionary<(string, bool), List<double>>();
        var cpu = new Dictionary<(string, bool), List<double>>();
        var allocated = new Dictionary<(string, bool), List<double>>();
        for (var r = 0; r < runs; r++)
        {
            var line = new List<string>();
            // Alternated, so that a change in the machine's load falls on all four alike; the order of loop and catalog
            // turned round every other run (A B B A), so that what one measurement leaves behind falls on both alike.
            foreach (var target in targets)
                foreach (var catalog in (r % 2 == 0 ? new[] { false, true } : [true, false]).Where(c => only is null || c == (only == "catalog")))
                {
                    var (rate, cpuSeconds, bytes) = Measure(target, catalog, list, chunk, concurrency);
                    (allocated.TryGetValue((target, catalog), out var a) ? a : allocated[(target, catalog)] = []).Add((double)bytes / files);
                    (results.TryGetValue((target, catalog), out var l) ? l : results[(target, catalog)] = []).Add(rate);
                    (cpu.TryGetValue((target, catalog), out var c) ? c : cpu[(target, catalog)] = []).Add(cpuSeconds * 1e9 / files);
                    line.Add($"{target} {(catalog ? "catalog" : "loop")} {rate:N0} ({cpu[(target, catalog)][^1]:N0} ns CPU, {allocated[(target, catalog)][^1]:N0} B allocated per file)");
                }
            Console.WriteLine($"run {r + 1}: " + string.Join(", ", line) + " files/s");
        }
        Console.WriteLine($"JIT during the measured runs: {(System.Runtime.JitInfo.GetCompilationTime() - jitBefore).TotalMilliseconds:N0} ms");
        foreach (var target in only is null ? targets : [])
        {
            var loop = Statistics.Median(results[(target, false)]);
            var catalog = Statistics.Median(results[(target, true)]);
            var (loopCpu, catalogCpu) = (Statistics.Median(cpu[(target, false)]), Statistics.Median(cpu[(target, true)]));
            Console.WriteLine($"median {target}: catalog {catalog:N0} files/s, plain loop {loop:N0} files/s (the ceiling): {catalog / loop:0.00}x; " +
                $"client CPU {catalogCpu:N0} ns/file through the catalog, {loopCpu:N0} with the plain loop ({loopCpu / catalogCpu:0.00}x); " +
                $"allocated {Statistics.Median(allocated[(target, true)]):N0} B/file through the catalog, {Statistics.Median(allocated[(target, false)]):N0} with the plain loop");
        }
        return 0;
    }

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
                        var (rate, cpu, _) = Measure(target, true, list, chunk, c);
                        (rates.TryGetValue((target, chunk, c), out var l) ? l : rates[(target, chunk, c)] = []).Add((rate, cpu * 1e9 / files));
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

    private static (double Rate, double CpuSeconds, long Allocated) Measure(string target, bool catalog, List<NewReplica> files, int chunk, int concurrency)
    {
        GC.Collect(); // the garbage of the measurement before is not this one's
        using var server = RucioBenchmarks.SinkProcess.Start(target);
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
        using var self = Process.GetCurrentProcess();
        var cpu0 = self.TotalProcessorTime;
        var allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        var sw = Stopwatch.StartNew();
        if (catalog && Environment.GetEnvironmentVariable("FDR_BENCH_AA") is null) // FDR_BENCH_AA: both sides the plain loop (the bench's own bias)
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
        var wall = sw.Elapsed.TotalSeconds;
        self.Refresh();
        return (files.Count / wall, (self.TotalProcessorTime - cpu0).TotalSeconds, GC.GetTotalAllocatedBytes(precise: true) - allocated0);
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

    private static TimeSpan CpuNow()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>`rucio-double`: the double with RSE MOCK (davs, QOS=FAST) and scope cta, its port on stdout, until stdin closes.</summary>
    public static int ServeDouble()
    {
        var server = RucioDouble.StartAsync(new RucioDoubleOptions { Password = Password, RecordRequests = false }).GetAwaiter().GetResult();
        server.AddRse("MOCK", new Dictionary<string, string> { ["QOS"] = "FAST" }, new DoubleProtocol("davs", "storage.example", 2880, "/data"));
        server.AddScope("cta");
        Console.WriteLine(server.Url.Port.ToString(CultureInfo.InvariantCulture));
        Console.Out.Flush();
        while (Console.In.Read() >= 0) { }
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }
}
