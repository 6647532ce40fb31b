using System.Globalization;
using System.Text.Json.Nodes;
using FdrHarness.Core.Observations;

namespace FdrHarness.Decisions.Sweep;

/// <summary>Per daemon, the peaks a sweep plots; kept in memory instead of Parquet files.</summary>
public sealed class DaemonPeaks
{
    public long PeakMemory;
    public double PeakCpu;
    public long PeakBacklog;
    public long LastBacklog;
    public int OomKills;
    public long? MemoryLimit;
    public double? CpuLimit;
    /// <summary>First time a pod's working set went past its memory limit, or the first OOM kill.</summary>
    public DateTime? FirstOver;
}

/// <summary>
/// Counts what a sweep needs from one embedded-lake run (transfers, bytes, per-daemon peaks, OOM kills) without
/// keeping the observations: one run per sweep point, many in parallel.
/// </summary>
public sealed class AggregatingSink : IObservationSink
{
    public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows) { } // the lake has no API: nothing to sum

    public long TransfersDone, TransfersFailed, TransfersSubmitted, BytesDone, Deletions, Events;
    public DateTime First = DateTime.MaxValue, Last = DateTime.MinValue;
    public readonly SortedDictionary<string, DaemonPeaks> Daemons = new(StringComparer.Ordinal);

    public void Event(in HermesEvent e)
    {
        Events++;
        if (e.CreatedAt < First) First = e.CreatedAt;
        if (e.CreatedAt > Last) Last = e.CreatedAt;
        switch (e.EventType)
        {
            case EventTypes.TransferDone: TransfersDone++; BytesDone += e.Bytes ?? 0; break;
            case EventTypes.TransferFailed: TransfersFailed++; break;
            case EventTypes.TransferSubmitted: TransfersSubmitted++; break;
            case EventTypes.DeletionDone: Deletions++; break;
        }
    }

    public void Sample(in PodSample s)
    {
        var d = Of(s.Daemon);
        d.PeakMemory = Math.Max(d.PeakMemory, s.MemoryBytes);
        d.PeakCpu = Math.Max(d.PeakCpu, s.CpuCores);
        d.PeakBacklog = Math.Max(d.PeakBacklog, s.Backlog);
        d.LastBacklog = s.Backlog;
        d.MemoryLimit = s.MemoryLimit ?? d.MemoryLimit;
        d.CpuLimit = s.CpuLimit ?? d.CpuLimit;
        if (s.MemoryLimit is { } limit && s.MemoryBytes > limit && d.FirstOver is null) d.FirstOver = s.Time;
        if (s.Time > Last) Last = s.Time;
        if (s.Time < First) First = s.Time;
    }

    public void Lifecycle(in PodLifecycleEvent e)
    {
        if (e.Event != LifecycleEvents.OomKilled) return;
        var d = Of(e.Daemon);
        d.OomKills++;
        d.FirstOver ??= e.Time;
    }

    public void Fault(in FaultRecord f) { }
    public void Injection(in InjectionRecord r) { }

    /// <summary>What the sink counted, as a sweep shard's points.json keeps it for fdr merge (every value exactly: doubles round-trip).</summary>
    public JsonObject ToJson()
    {
        var daemons = new JsonObject();
        foreach (var (name, d) in Daemons)
            daemons[name] = new JsonObject
            {
                ["peak_memory"] = d.PeakMemory, ["peak_cpu"] = d.PeakCpu, ["peak_backlog"] = d.PeakBacklog, ["last_backlog"] = d.LastBacklog,
                ["oom_kills"] = d.OomKills, ["memory_limit"] = d.MemoryLimit, ["cpu_limit"] = d.CpuLimit,
                ["first_over"] = d.FirstOver?.ToString("O", CultureInfo.InvariantCulture),
            };
        return new JsonObject
        {
            ["transfers_done"] = TransfersDone, ["transfers_failed"] = TransfersFailed, ["transfers_submitted"] = TransfersSubmitted,
            ["bytes_done"] = BytesDone, ["deletions"] = Deletions, ["events"] = Events,
            ["first"] = First.ToString("O", CultureInfo.InvariantCulture), ["last"] = Last.ToString("O", CultureInfo.InvariantCulture),
            ["daemons"] = daemons,
        };
    }

    /// <summary>The sink <see cref="ToJson"/> wrote; throws <see cref="FormatException"/> or <see cref="InvalidOperationException"/> on anything else.</summary>
    public static AggregatingSink FromJson(JsonObject o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var sink = new AggregatingSink
        {
            TransfersDone = Get<long>(o, "transfers_done"), TransfersFailed = Get<long>(o, "transfers_failed"),
            TransfersSubmitted = Get<long>(o, "transfers_submitted"), BytesDone = Get<long>(o, "bytes_done"),
            Deletions = Get<long>(o, "deletions"), Events = Get<long>(o, "events"),
            First = Time(Get<string>(o, "first")), Last = Time(Get<string>(o, "last")),
        };
        foreach (var (name, node) in o["daemons"] as JsonObject ?? throw new FormatException("no \"daemons\""))
        {
            var d = node as JsonObject ?? throw new FormatException($"daemon {name}: not an object");
            sink.Daemons[name] = new DaemonPeaks
            {
                PeakMemory = Get<long>(d, "peak_memory"), PeakCpu = Get<double>(d, "peak_cpu"), PeakBacklog = Get<long>(d, "peak_backlog"),
                LastBacklog = Get<long>(d, "last_backlog"), OomKills = Get<int>(d, "oom_kills"),
                MemoryLimit = d["memory_limit"]?.GetValue<long>(), CpuLimit = d["cpu_limit"]?.GetValue<double>(),
                FirstOver = d["first_over"] is { } f ? Time(f.GetValue<string>()) : null,
            };
        }
        return sink;
    }

    private static T Get<T>(JsonObject o, string key) => (o[key] ?? throw new FormatException($"no \"{key}\"")).GetValue<T>();

    private static DateTime Time(string text) => DateTime.ParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    private DaemonPeaks Of(string daemon)
    {
        if (!Daemons.TryGetValue(daemon, out var d)) Daemons[daemon] = d = new DaemonPeaks();
        return d;
    }
}
