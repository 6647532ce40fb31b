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

    private DaemonPeaks Of(string daemon)
    {
        if (!Daemons.TryGetValue(daemon, out var d)) Daemons[daemon] = d = new DaemonPeaks();
        return d;
    }
}
