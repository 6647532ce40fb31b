using FdrHarness.Core.Observations;

namespace FdrHarness.Reporting.Analysis;

/// <summary>Time to recover from each chaos action: until the affected backlog is back to its level just before it.</summary>
internal static class Faults
{
    public static readonly string[] ConveyorDaemons = ["conveyor-submitter", "conveyor-poller", "conveyor-finisher"];

    /// <summary>
    /// Each fault's recovery, in order of start, then name (then as recorded). Loops and arrays, not LINQ: FaultRecord and
    /// the timeline's instants are structs, LINQ's code over them is not compiled ahead with this assembly.
    /// </summary>
    public static List<FaultRecovery> Recoveries(FaultRecord[] faults, ResourceAnalysis resources)
    {
        var order = new int[faults.Length];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) =>
        {
            var c = faults[a].Start.CompareTo(faults[b].Start);
            if (c == 0) c = string.CompareOrdinal(faults[a].Name, faults[b].Name);
            return c != 0 ? c : a.CompareTo(b);
        });
        var recoveries = new List<FaultRecovery>(order.Length);
        foreach (var i in order) recoveries.Add(Recovery(faults[i], resources));
        return recoveries;
    }

    public static FaultRecovery Recovery(FaultRecord f, ResourceAnalysis resources)
    {
        // A daemon fault shows in that daemon's queue; an RSE or link fault in the transfer queues.
        var daemons = resources.Daemons.ContainsKey(f.Target) ? [f.Target] : ConveyorDaemons.Where(resources.Daemons.ContainsKey).ToArray();
        var series = SummedBacklog(daemons, resources);
        long before = 0;
        foreach (var x in series)
            if (x.Time <= f.Start) before = x.Backlog;
        var from = f.End is { } end && end > f.Start ? end : f.Start;
        DateTime? recovered = null;
        long peak = before;
        foreach (var (time, backlog) in series)
        {
            if (time <= f.Start) continue;
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

    /// <summary>The daemons' backlogs summed per sample time, in time order.</summary>
    private static (DateTime Time, long Backlog)[] SummedBacklog(string[] daemons, ResourceAnalysis resources)
    {
        var n = 0;
        foreach (var d in daemons) n += resources.Daemons[d].Timeline.Count;
        var points = new (DateTime Time, long Backlog)[n];
        var ticks = new long[n];
        var order = new int[n];
        n = 0;
        foreach (var d in daemons)
            foreach (var t in resources.Daemons[d].Timeline)
            {
                (points[n], ticks[n], order[n]) = ((t.Time, t.Backlog), t.Time.Ticks, n);
                n++;
            }
        Array.Sort(order, (a, b) => ticks[a] != ticks[b] ? ticks[a].CompareTo(ticks[b]) : a.CompareTo(b));
        var series = new (DateTime Time, long Backlog)[n];
        var count = 0;
        for (var k = 0; k < order.Length;)
        {
            var (time, sum) = points[order[k]];
            for (k++; k < order.Length && ticks[order[k]] == time.Ticks; k++) sum += points[order[k]].Backlog;
            series[count++] = (time, sum);
        }
        Array.Resize(ref series, count);
        return series;
    }
}
