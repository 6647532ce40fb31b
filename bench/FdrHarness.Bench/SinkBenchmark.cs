using System.Diagnostics;
using FdrHarness.Core.Observations;
using MathNet.Numerics.Statistics;

/// <summary>
/// `sink`: writes transfer-like Hermes events (queued, submitted, done or failed per request, as the conveyor emits
/// them) through <see cref="ParquetObservationSink"/> and reports events/s (wall, producer to closed file), process CPU
/// time and bytes per event. Strings are made before timing: the simulation owns them too, the sink only stores them.
/// </summary>
internal static class SinkBench
{
    private static readonly string[] Scopes = ["cta", "lsst", "ska", "ego-virgo", "atlas", "magic", "lofar", "cms", "fair"];
    private static readonly string[] Rses =
        ["CERN-EOS", "DESY-DCACHE", "IN2P3-CC-DCACHE", "INFN-NA-DPM", "INFN-ROMA1", "LAPP-DCACHE", "PIC-DCACHE", "PIC-INJECT", "SARA-DCACHE", "ALPAMED-DPM", "INFN-NA-DPM-FED", "EULAKE-1"];
    private static readonly string[] Activities = ["User Subscriptions", "Data Rebalancing", "Functional Test", "Analysis Input"];
    private static readonly string[] Reasons =
        ["TRANSFER [110] TRANSFER Operation timed out", "DESTINATION [70] DESTINATION OVERWRITE srm-ifce err: Communication error on send", "SOURCE [2] SOURCE CHECKSUM MISMATCH"];

    public static int Run(Options options)
    {
        var events = options.Long("events", 3_000_000);
        var runs = (int)options.Long("runs", 5);
        var rowGroup = (int)options.Long("row-group", new ParquetSinkOptions().RowGroupSize);
        var compression = (ObservationCompression)options.Long("compression", (long)new ParquetSinkOptions().Compression);
        var requests = (int)((events + 2) / 3);
        Console.WriteLine($"sink: {events:N0} transfer events ({requests:N0} requests), {runs} runs, row group {rowGroup:N0}, {compression}, {Environment.ProcessorCount} cores");

        var random = new Random(2020);
        var names = new string[requests];
        var ids = new string[requests];
        var jobs = new string[requests];
        var adlers = new string[requests];
        var sizes = new long[requests];
        var datasets = new string[requests / 1000 + 1];
        for (var d = 0; d < datasets.Length; d++) datasets[d] = $"{Scopes[d % Scopes.Length]}.fdr.ds{d:D6}";
        for (var i = 0; i < requests; i++)
        {
            var scope = Scopes[i % Scopes.Length];
            names[i] = $"{scope}.run{5000 + i / 300:D6}.subrun{i % 300:D4}.{random.Next():x8}.h5";
            ids[i] = random.NextInt64().ToString("x16") + random.NextInt64().ToString("x16");
            jobs[i] = new Guid(random.NextInt64().ToString("x16") + random.NextInt64().ToString("x16")).ToString();
            adlers[i] = random.Next().ToString("x8");
            sizes[i] = (long)(Math.Exp(random.NextDouble() * 4) * 5_000_000);
        }

        var root = Path.Combine(Path.GetTempPath(), $"fdr-sink-bench-{Environment.ProcessId}");
        var seconds = new List<double>();
        var cpu = new List<double>();
        var producer = new List<double>(); // time on the calling (simulation) thread, waits for the writer excluded
        long bytes = 0;
        try
        {
            for (var r = -1; r < runs; r++) // run -1 warms the JIT up
            {
                var dir = Path.Combine(root, r.ToString());
                Directory.CreateDirectory(dir);
                GC.Collect();
                var process = Process.GetCurrentProcess();
                var cpu0 = process.TotalProcessorTime;
                var pause0 = GC.GetTotalPauseDuration();
                var gen2 = GC.CollectionCount(2);
                var sw = Stopwatch.StartNew();
                TimeSpan produced, waited;
                using (var sink = new ParquetObservationSink(dir, new ParquetSinkOptions { RowGroupSize = rowGroup, Compression = compression }))
                {
                    Produce(sink, events, names, ids, jobs, adlers, sizes, datasets);
                    produced = sw.Elapsed;
                    waited = sink.ProducerWaitTime;
                }
                sw.Stop();
                process.Refresh();
                if (r < 0) continue;
                seconds.Add(sw.Elapsed.TotalSeconds);
                cpu.Add((process.TotalProcessorTime - cpu0).TotalSeconds);
                producer.Add((produced - waited).TotalSeconds);
                bytes = new FileInfo(Path.Combine(dir, ParquetObservationSink.EventsFile)).Length;
                Console.WriteLine($"  run {r + 1}: {sw.Elapsed.TotalSeconds:0.000} s wall, {cpu[^1]:0.000} s CPU, {producer[^1]:0.000} s on the producer thread, GC paused {(GC.GetTotalPauseDuration() - pause0).TotalSeconds:0.000} s ({GC.CollectionCount(2) - gen2} gen2), {bytes:N0} bytes");
            }
            var read = Stopwatch.StartNew();
            var check = new ObservationReader(Path.Combine(root, "0")).Events().LongCount();
            read.Stop();
            var projected = Stopwatch.StartNew();
            var some = new ObservationReader(Path.Combine(root, "0")).Events(["event_type", "created_at", "src_rse", "dst_rse", "bytes"]).LongCount();
            projected.Stop();
            var median = Statistics.Median(seconds);
            Console.WriteLine($"  median {events / median,13:N0} events/s  ({median:0.000} s wall, {Statistics.Median(cpu):0.000} s CPU of {Environment.ProcessorCount} cores per {events:N0} events)");
            Console.WriteLine($"  producer thread (Event calls, waits excluded) median {Statistics.Median(producer):0.000} s = {Statistics.Median(producer) / events * 1e9:0} ns/event");
            Console.WriteLine($"  events.parquet {bytes:N0} bytes, {bytes / (double)events:0.0} bytes/event; read back {check:N0} events in {read.Elapsed.TotalSeconds:0.00} s (5 columns: {projected.Elapsed.TotalSeconds:0.00} s)");
            return check == events && some == events ? 0 : 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Produce(ParquetObservationSink sink, long events, string[] names, string[] ids, string[] jobs, string[] adlers, long[] sizes, string[] datasets)
    {
        var t0 = new DateTime(2020, 11, 18, 0, 0, 0, DateTimeKind.Utc);
        long written = 0;
        for (var i = 0; written < events; i++)
        {
            var scope = Scopes[i % Scopes.Length];
            var src = Rses[i % Rses.Length];
            var dst = Rses[(i * 7 + 3) % Rses.Length];
            if (dst == src) dst = Rses[(i + 1) % Rses.Length];
            var queued = t0.AddTicks(i * 863_000L);
            var e = new HermesEvent
            {
                EventType = "transfer-queued", CreatedAt = queued, Scope = scope, Name = names[i], DatasetScope = scope,
                Dataset = datasets[i / 1000], SrcRse = src, DstRse = dst, RequestId = ids[i], RuleId = ids[i / 100],
                Activity = Activities[i % Activities.Length], Bytes = sizes[i], ChecksumAdler = adlers[i], Protocol = "davs",
                Account = "root", State = "QUEUED", RetryCount = 0,
            };
            sink.Event(e);
            if (++written == events) break;
            e.EventType = "transfer-submitted";
            e.CreatedAt = queued.AddSeconds(20);
            e.State = "SUBMITTED";
            e.TransferId = jobs[i];
            e.ExternalHost = "https://fts3-pilot.cern.ch:8446";
            sink.Event(e);
            if (++written == events) break;
            var failed = i % 19 == 0;
            e.EventType = failed ? "transfer-failed" : "transfer-done";
            e.State = failed ? "FAILED" : "DONE";
            e.SubmittedAt = queued.AddSeconds(20);
            e.StartedAt = queued.AddSeconds(31);
            e.TransferredAt = queued.AddSeconds(31 + sizes[i] / 40_000_000.0);
            e.CreatedAt = e.TransferredAt.Value.AddSeconds(2);
            e.Duration = sizes[i] / 40_000_000.0;
            e.Reason = failed ? Reasons[i % Reasons.Length] : null;
            sink.Event(e);
            written++;
        }
    }

}
