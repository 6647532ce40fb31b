using FdrHarness.Core.Observations;

namespace FdrHarness.Reporting.Analysis;

/// <summary>Time to recover from each chaos action: until the affected backlog is back to its level just before it.</summary>
internal static class Faults
{
    public static readonly string[] ConveyorDaemons = ["conveyor-submitter", "conveyor-poller", "conveyor-finisher"];

    public static FaultRecovery Recovery(FaultRecord f, ResourceAnalysis resources)
    {
        // A daemon fault shows in that daemon's queue; an RSE or link fault in the transfer queues.
        var daemons = resources.Daemons.ContainsKey(f.Target) ? [f.Target] : ConveyorDaemons.Where(resources.Daemons.ContainsKey).ToArray();
        var series = daemons.SelectMany(d => resources.Daemons[d].Timeline.Select(t => (t.Time, t.Backlog)))
            .GroupBy(x => x.Time).OrderBy(g => g.Key).Select(g => (Time: g.Key, Backlog: g.Sum(x => x.Backlog))).ToList();
        var before = series.LastOrDefault(x => x.Time <= f.Start).Backlog;
        var from = f.End is { } end && end > f.Start ? end : f.Start;
        DateTime? recovered = null;
        long peak = before;
        foreach (var (time, backlog) in series.Where(x => x.Time > f.Start))
        {
            peak = Math.Max(peak, backlog);
            if (time >= from && backlog <= before) { recovered = time; break; }
        }
        // A backlog that never rose above its level before the fault had nothing to recover from: 0, not the first
        // sample's distance from the fault. Otherwise the time from the fault's end (its start, for a kill) until the
        // first sample back at that level: as fine as the sampling interval.
        double? ttr = recovered is not { } r ? null : peak <= before ? 0 : Stats.Round(Math.Max(0, (r - from).TotalSeconds), 3);
        return new FaultRecovery
        {
            Name = f.Name, Kind = f.Kind, Target = f.Target, Start = f.Start, End = f.End, Detail = f.Detail,
            BacklogOf = string.Join("+", daemons), BacklogBefore = before, BacklogPeak = peak,
            RecoveredAt = peak <= before && recovered is not null ? from : recovered, TimeToRecoverSeconds = ttr,
        };
    }
}
