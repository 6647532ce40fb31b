using System.Diagnostics;
using System.Globalization;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios;
using FdrHarness.Lake;
using FdrHarness.Lake.Daemons;

/// <summary>
/// lake &lt;scenario.yaml&gt; [--scale F] [--scale-quotas] [--seed N] [--limits takeaway] [--matrix]: runs the embedded lake with a counting sink and
/// prints wall time, peak working set, events and events/s, and the run's headline counters; then the lake run again
/// (warm) and a bare event loop cold and warm beside the two runs.
/// </summary>
internal static class LakeBenchmark
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            Console.Error.WriteLine("usage: FdrHarness.Bench lake <scenario.yaml> [--scale F] [--scale-quotas] [--seed N] [--limits takeaway] [--matrix]");
            return 2;
        }
        var loaded = ScenarioLoader.Load(args[0]);
        if (!loaded.Ok)
        {
            foreach (var d in loaded.Diagnostics) Console.Error.WriteLine(d);
            return 2;
        }
        var scenario = loaded.Scenario!;
        string? Arg(string name)
        {
            var i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        if (Arg("scale") is { } scale) scenario = scenario with { Run = scenario.Run with { Scale = double.Parse(scale, CultureInfo.InvariantCulture) } };
        if (Arg("seed") is { } seed) scenario = scenario with { Run = scenario.Run with { Seed = long.Parse(seed, CultureInfo.InvariantCulture) } };
        if (Arg("limits") == "takeaway") scenario = EscapeTakeaway.Apply(scenario);
        // A 10× run in a 10× lake: without this, quotas fill and uploads are refused, which measures the quotas, not the engine.
        if (args.Contains("--scale-quotas"))
        {
            var f = scenario.Run.Scale;
            scenario = scenario with
            {
                Rses = [.. scenario.Rses.Select(r => r with { Quota = new ByteSize((long)(r.Quota.Bytes * f)), Watermark = new ByteSize((long)(r.Watermark.Bytes * f)) })],
            };
        }

        var sink = new CountingSink();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        int[] collections = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var thread = ThreadCpu();
        var watch = Stopwatch.StartNew();
        var result = EmbeddedLake.Run(scenario, sink);
        watch.Stop();
        thread = ThreadCpu() - thread;
        // CPU of the whole process (the GC's threads too): steadier than wall time on a shared machine.
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        for (var g = 0; g < 3; g++) collections[g] = GC.CollectionCount(g) - collections[g];
        var peak = PeakWorkingSet();
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"lake: {scenario.Run.Name} scale {scenario.Run.Scale} seed {scenario.Run.Seed}{(Arg("limits") is { } l ? ", limits " + l : "")}"));
        Console.WriteLine(string.Create(inv, $"  wall {watch.Elapsed.TotalSeconds:0.00} s, CPU {cpu.TotalSeconds:0.00} s ({sink.Events / cpu.TotalSeconds:N0} events per CPU-s; the lake's thread {thread:0.00} s), peak working set {peak / 1048576.0:0} MiB, {sink.Events:N0} events, {sink.Events / watch.Elapsed.TotalSeconds:N0} events/s, {sink.Samples:N0} samples, {sink.Lifecycles:N0} lifecycle, {sink.Faults} faults, {sink.Injections:N0} injection rows"));
        Console.WriteLine(string.Create(inv, $"  files injected {result.FilesInjected:N0} (refused {result.FilesRefused:N0}; present {result.FilesPresent:N0}, replicated {result.FilesReplicated:N0}, deleted {result.FilesDeleted:N0})"));
        Console.WriteLine(string.Create(inv, $"  transfers queued {result.TransfersQueued:N0}, submitted {result.TransfersSubmitted:N0}, done {result.TransfersDone:N0} ({100.0 * result.TransfersDone / Math.Max(1, result.TransfersSubmitted):0.0} % of submitted), failed {result.TransfersFailed:N0}, active {result.TransfersActive:N0}, cancelled {result.TransfersCancelled:N0}, {result.BytesTransferred / 1e12:0.000} TB"));
        Console.WriteLine(string.Create(inv, $"  deletions {result.Deletions:N0} ({result.BytesDeleted / 1e12:0.000} TB); rules {result.RulesCreated:N0}: OK {result.RulesOk:N0}, stuck {result.RulesStuck:N0}, replicating {result.RulesReplicating:N0}, removed {result.RulesRemoved:N0}; quota refusals {result.QuotaRefusals:N0}"));
        Console.WriteLine(string.Create(inv, $"  allocated {allocated / 1048576.0:N0} MiB ({(double)allocated / Math.Max(1, sink.Events):0} bytes per event), collections gen0/1/2 {collections[0]}/{collections[1]}/{collections[2]}"));
        // The heap at the lake's end (where the main job's memory peaks): what the GC held, then what is still live.
        var info = GC.GetGCMemoryInfo();
        GC.KeepAlive(result);
        var held = GC.GetTotalMemory(forceFullCollection: false);
        var live = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine(string.Create(inv, $"  heap at the end {held / 1048576.0:0} MiB ({info.HeapSizeBytes / 1048576.0:0} MiB after the last GC, committed {info.TotalCommittedBytes / 1048576.0:0} MiB), live after a full GC {live / 1048576.0:0} MiB"));

        // The reference beside it: a bare discrete-event loop popping and pushing as many events, 100 k pending. Each
        // side compared like for like: the lake's first run (cold, as fdr runs it: ReadyToRun code, then the optimized
        // tier compiled in the background) with the loop's first pass, and the lake run again in this process (its
        // code compiled fully by then) with the loop after two passes.
        var lakeCold = sink.Events / watch.Elapsed.TotalSeconds;
        var loopCold = BareLoopPass(sink.Events);
        Thread.Sleep(200);
        var warmSink = new CountingSink();
        var warmCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var warmThread = ThreadCpu();
        var warmWatch = Stopwatch.StartNew();
        EmbeddedLake.Run(scenario, warmSink);
        warmWatch.Stop();
        warmThread = ThreadCpu() - warmThread;
        warmCpu = Process.GetCurrentProcess().TotalProcessorTime - warmCpu;
        var lakeWarm = warmSink.Events / warmWatch.Elapsed.TotalSeconds;
        var loopWarm = BareLoopWarm(sink.Events);
        Console.WriteLine(string.Create(inv, $"  the lake's second run (warm, after the first): wall {warmWatch.Elapsed.TotalSeconds:0.00} s, CPU {warmCpu.TotalSeconds:0.00} s (the lake's thread {warmThread:0.00} s), {warmSink.Events:N0} events, {lakeWarm:N0} events/s"));
        Console.WriteLine(string.Create(inv, $"  bare loop (PriorityQueue, 100 k pending) cold, first pass: {loopCold:N0} events/s; the lake's first run {lakeCold / loopCold:0.00}× of it"));
        Console.WriteLine(string.Create(inv, $"  bare loop (PriorityQueue, 100 k pending) warm, after two passes: {loopWarm:N0} events/s; the lake's second run {lakeWarm / loopWarm:0.00}× of it"));
        if (args.Contains("--matrix")) sink.PrintMatrix();
        foreach (var d in result.Daemons)
        {
            var u = sink.Usage.GetValueOrDefault(d.Daemon);
            var n = Math.Max(1, u.N);
            Console.WriteLine(string.Create(inv, $"  {d.Daemon,-26} OOMKilled {d.OomKills,4}  restarts {d.Restarts,4}  items {d.ItemsDone,10:N0}  backlog peak {d.PeakBacklog,9:N0} end {d.BacklogAtEnd,9:N0}  cpu mean/max {u.CpuSum / n,4:0.00}/{u.CpuMax,4:0.00}  memory mean/max {u.MemSum / n / 1048576.0,5:0}/{u.MemMax / 1048576.0,5:0} MiB (peak asked {d.PeakMemory / 1048576.0,6:0})"));
        }
        return 0;
    }

    /// <summary>
    /// Events per second of the simplest event loop (<see cref="BareLoopPass"/>) warm: passes first, then the timed
    /// one, the loop compiled fully optimized: the bench is ReadyToRun, and a loop left to the precompiled code and the
    /// first tier of PriorityQueue's methods ran at half its speed.
    /// </summary>
    private static double BareLoopWarm(long events)
    {
        // Two passes and a pause: PriorityQueue's methods reach their optimized tier in the background compiler.
        for (var pass = 0; pass < 2; pass++)
        {
            BareLoopPass(Math.Min(events, 500_000));
            Thread.Sleep(200);
        }
        return BareLoopPass(events);
    }

    /// <summary>One pass of the simplest event loop: pop the earliest, schedule one later at a random delay.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static double BareLoopPass(long events)
    {
        const int Pending = 100_000;
        var queue = new PriorityQueue<int, long>(Pending);
        var rng = new Random(2020);
        for (var i = 0; i < Pending; i++) queue.Enqueue(i, rng.NextInt64(1_000_000));
        var watch = Stopwatch.StartNew();
        long checksum = 0;
        for (var n = 0L; n < events; n++)
        {
            queue.TryDequeue(out var item, out var at);
            checksum += item;
            queue.Enqueue(item, at + 1 + rng.NextInt64(1_000_000));
        }
        watch.Stop();
        GC.KeepAlive(checksum);
        return events / watch.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// CPU-seconds of the calling thread (the lake runs on it): without the JIT's and GC's threads, the steadiest figure
    /// of the lake's own work on a shared machine. 0 where /proc has no schedstat.
    /// </summary>
    private static double ThreadCpu()
    {
        try
        {
            var line = File.ReadAllText("/proc/thread-self/schedstat");
            return long.Parse(line.AsSpan(0, line.IndexOf(' ')), CultureInfo.InvariantCulture) / 1e9;
        }
        catch (IOException) { return 0; }
    }

    private static long PeakWorkingSet()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }

    private sealed class CountingSink : IObservationSink
    {
        public void ApiLatency(IReadOnlyList<FdrHarness.Core.Observations.ApiLatencyRow> rows) { }

        public long Events, Samples, Lifecycles, Faults, Injections;
        private readonly Dictionary<(string, string), (long Submitted, long Done)> _matrix = [];

        public void Event(in HermesEvent e)
        {
            Events++;
            if (!_matrixWanted || e.SrcRse is null || e.DstRse is null) return;
            if (e.EventType == "transfer-submitted")
            {
                var c = _matrix.GetValueOrDefault((e.SrcRse, e.DstRse));
                _matrix[(e.SrcRse, e.DstRse)] = (c.Submitted + 1, c.Done);
            }
            else if (e.EventType == "transfer-done")
            {
                var c = _matrix.GetValueOrDefault((e.SrcRse, e.DstRse));
                _matrix[(e.SrcRse, e.DstRse)] = (c.Submitted, c.Done + 1);
            }
        }

        private readonly bool _matrixWanted = Environment.GetCommandLineArgs().Contains("--matrix");

        /// <summary>transfer-done / transfer-submitted per link, in percent (the FDR's matrix), with submissions.</summary>
        public void PrintMatrix()
        {
            var rses = _matrix.Keys.SelectMany(k => new[] { k.Item1, k.Item2 }).Distinct().Order(StringComparer.Ordinal).ToArray();
            Console.WriteLine("  done/submitted % (submitted) rows = source, columns = destination");
            Console.WriteLine("  " + string.Concat(rses.Select(r => r.Length > 11 ? r[..11].PadLeft(12) : r.PadLeft(12))));
            foreach (var src in rses)
            {
                Console.Write("  ");
                foreach (var dst in rses)
                {
                    var c = _matrix.GetValueOrDefault((src, dst));
                    Console.Write((c.Submitted == 0 ? "." : string.Create(CultureInfo.InvariantCulture, $"{100.0 * c.Done / c.Submitted:0}({c.Submitted})")).PadLeft(12));
                }
                Console.WriteLine("  " + src);
            }
        }
        public readonly Dictionary<string, (double CpuSum, double CpuMax, long MemSum, long MemMax, long N)> Usage = [];

        public void Sample(in PodSample s)
        {
            Samples++;
            if (s.State != "Running") return;
            var u = Usage.GetValueOrDefault(s.Daemon);
            Usage[s.Daemon] = (u.CpuSum + s.CpuCores, Math.Max(u.CpuMax, s.CpuCores), u.MemSum + s.MemoryBytes, Math.Max(u.MemMax, s.MemoryBytes), u.N + 1);
        }
        public void Lifecycle(in PodLifecycleEvent e) => Lifecycles++;
        public void Fault(in FaultRecord f) => Faults++;
        public void Injection(in InjectionRecord r) => Injections++;
    }
}
