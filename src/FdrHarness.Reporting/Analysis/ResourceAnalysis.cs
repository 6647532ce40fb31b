using FdrHarness.Core.Figures;
using FdrHarness.Core.Observations;

namespace FdrHarness.Reporting.Analysis;

/// <summary>
/// Per daemon, from samples.parquet (usage, requests, limits, backlog) and lifecycle.parquet (why pods restarted):
/// the seed's resource table, the series for the CPU/memory plots and the input of the recommendations.
/// </summary>
internal sealed class ResourceAnalysis
{
    public sealed class DaemonSamples
    {
        public required string Daemon;
        public readonly List<PodSample> Samples = [];
        public readonly List<PodIncident> Incidents = [];
        public int RestartEvents;
        /// <summary>Per sample instant: max CPU, max memory over the pods, backlog, and the limits in force.</summary>
        public readonly List<Instant> Timeline = [];
    }

    public readonly record struct Instant(DateTime Time, double Cpu, long Memory, long Backlog, double? CpuLimit, long? MemoryLimit, int Pods);

    public readonly SortedDictionary<string, DaemonSamples> Daemons = new(StringComparer.Ordinal);
    public readonly List<PodIncident> Incidents = [];
    public long MinTicks = long.MaxValue, MaxTicks = long.MinValue, MinSampleTicks = long.MaxValue;

    public void Run(ObservationReader reader, string runDir)
    {
        // A target that samples no pods (or a run killed before its first sample) still gets the event half of the report.
        var samples = File.Exists(Path.Combine(runDir, ParquetObservationSink.SamplesFile)) ? reader.Samples() : [];
        foreach (var s in samples)
        {
            Of(s.Daemon).Samples.Add(s);
            MinTicks = Math.Min(MinTicks, s.Time.Ticks);
            MinSampleTicks = Math.Min(MinSampleTicks, s.Time.Ticks);
            MaxTicks = Math.Max(MaxTicks, s.Time.Ticks);
        }
        // A target that records no pod lifecycle (or an old run) still gets a report, without the reasons.
        if (File.Exists(Path.Combine(runDir, ParquetObservationSink.LifecycleFile)))
            foreach (var e in reader.Lifecycle())
            {
                MinTicks = Math.Min(MinTicks, e.Time.Ticks);
                var d = Of(e.Daemon);
                if (e.Event == LifecycleEvents.Restarted) d.RestartEvents++;
                if (e.Event is LifecycleEvents.Killed or LifecycleEvents.OomKilled)
                {
                    var incident = new PodIncident(e.Time, e.Daemon, e.Pod, e.Event, e.Reason);
                    d.Incidents.Add(incident);
                    Incidents.Add(incident);
                }
            }
        foreach (var d in Daemons.Values)
            d.Timeline.AddRange(d.Samples.GroupBy(s => s.Time).OrderBy(g => g.Key).Select(g => new Instant(g.Key,
                g.Max(s => s.CpuCores), g.Max(s => s.MemoryBytes), g.Max(s => s.Backlog),
                g.Max(s => s.CpuLimit), g.Max(s => s.MemoryLimit), g.Count())));
        Incidents.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : string.CompareOrdinal(a.Pod, b.Pod));
    }

    private DaemonSamples Of(string daemon)
    {
        if (!Daemons.TryGetValue(daemon, out var d)) Daemons[daemon] = d = new DaemonSamples { Daemon = daemon };
        return d;
    }

    public static ResourceUsage Usage(DaemonSamples d, int? threads, DateTime? runStart = null)
    {
        var running = d.Samples.Where(s => s.State == "Running").ToList();
        var cpu = running.Select(s => s.CpuCores).Order().ToArray();
        var mem = running.Select(s => (double)s.MemoryBytes).Order().ToArray();
        var interval = Interval(d.Timeline);
        var last = d.Samples.Count > 0 ? d.Samples[^1] : default;
        var first = d.Samples.Count > 0 ? d.Samples[0] : default;
        var oom = d.Incidents.Count(i => i.Event == LifecycleEvents.OomKilled);
        var chaos = d.Incidents.Count(i => i.Event == LifecycleEvents.Killed && (i.Reason ?? "").StartsWith("chaos:", StringComparison.Ordinal));
        var other = d.Incidents.Count(i => i.Event == LifecycleEvents.Killed) - chaos;
        var restarts = d.RestartEvents > 0 ? d.RestartEvents : d.Samples.GroupBy(s => s.Pod).Sum(g => g.Max(s => s.Restarts));
        long? memAtOom = null;
        foreach (var i in d.Incidents.Where(i => i.Event == LifecycleEvents.OomKilled))
        {
            // The pod was at its limit when killed: the limit in force then, or the largest working set seen before it.
            var before = d.Samples.Where(s => s.Time <= i.Time).ToList();
            var used = Math.Max(before.LastOrDefault(s => s.MemoryLimit is not null).MemoryLimit ?? 0, before.Count > 0 ? before.Max(s => s.MemoryBytes) : 0);
            memAtOom = Math.Max(memAtOom ?? 0, used);
        }
        var pending = PendingInstants(d, runStart) * interval;
        // Time with some pod crash-looping, not the pods' times added up.
        var crash = d.Samples.Where(s => s.State == "CrashLoopBackOff").Select(s => s.Time).Distinct().Count() * interval;
        var status = oom > 0 || chaos > 0 || other > 0 || restarts > 0 ? "Restarted" : pending > 0 ? "Pending" : "OK";
        return new ResourceUsage
        {
            Daemon = d.Daemon,
            Replicas = d.Timeline.Count > 0 ? d.Timeline.Max(t => t.Pods) : 0,
            Threads = threads,
            CpuRequest = last.CpuRequest, CpuLimit = last.CpuLimit, MemoryRequest = last.MemoryRequest, MemoryLimit = last.MemoryLimit,
            InitialCpuLimit = first.CpuLimit != last.CpuLimit ? first.CpuLimit : null,
            InitialMemoryLimit = first.MemoryLimit != last.MemoryLimit ? first.MemoryLimit : null,
            Samples = d.Samples.Count,
            CpuP50 = Stats.Round(Percentiles.Linear(cpu, 0.5)), CpuP90 = Stats.Round(Percentiles.Linear(cpu, 0.9)),
            CpuP95 = Stats.Round(Percentiles.Linear(cpu, 0.95)), CpuPeak = Stats.Round(cpu.Length > 0 ? cpu[^1] : 0),
            MemoryP50 = (long)Percentiles.Linear(mem, 0.5), MemoryP90 = (long)Percentiles.Linear(mem, 0.9),
            MemoryPeak = mem.Length > 0 ? (long)mem[^1] : 0,
            Restarts = restarts, OomKilled = oom, KilledByChaos = chaos, KilledOther = other,
            PendingSeconds = Stats.Round(pending, 3), CrashLoopSeconds = Stats.Round(crash, 3),
            MemoryAtOom = memAtOom,
            PeakBacklog = d.Timeline.Count > 0 ? d.Timeline.Max(t => t.Backlog) : 0,
            SustainedBacklog = SustainedBacklog(d.Timeline, SustainedWindow),
            Status = status,
        };
    }

    /// <summary>
    /// Instants at which some pod of the daemon was Pending as Kubernetes means it: created but not yet running (not
    /// yet scheduled, or its containers not yet started). A pod counts until it first runs, not after (a container
    /// restarting in a running pod is a restart); pods there at the run's first sample are the rehearsal's own
    /// start-up and do not count. Instants, not pod-samples: two pods pending together are pending once.
    /// </summary>
    private static int PendingInstants(DaemonSamples d, DateTime? runStart)
    {
        var first = runStart ?? (d.Samples.Count > 0 ? d.Samples.Min(s => s.Time) : default);
        var instants = new HashSet<DateTime>();
        foreach (var pod in d.Samples.GroupBy(s => s.Pod))
        {
            var samples = pod.OrderBy(s => s.Time).ToList();
            if (samples[0].Time <= first) continue;
            foreach (var s in samples)
            {
                if (s.State == "Running") break;
                if (s.State == "Pending") instants.Add(s.Time);
            }
        }
        return instants.Count;
    }

    /// <summary>How long a queue must stay long to count as the daemon's sustained backlog.</summary>
    public static readonly TimeSpan SustainedWindow = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The longest queue held for a whole <paramref name="window"/>: the highest, over the run, of the shortest queue
    /// within any window of that length (Prometheus: <c>max_over_time(min_over_time(backlog[5m])[run])</c>). A
    /// restart's pile-up is gone within a minute or two (every pod of judge-evaluator OOMKilled together on
    /// escape-fdr-2020: the queue gains the arrivals of the 10 s back-off, 58 or 100 by whether the third pod dies
    /// too) and does not move it; a daemon that cannot keep up holds its queue and does. Only windows the samples
    /// cover whole count; a timeline shorter than the window is one window.
    /// </summary>
    public static long SustainedBacklog(IReadOnlyList<Instant> timeline, TimeSpan window)
    {
        if (timeline.Count == 0) return 0;
        if (timeline[^1].Time - timeline[0].Time < window) return timeline.Min(t => t.Backlog);
        // Sliding minimum over (t − window, t]: a deque of indexes with increasing backlogs.
        var deque = new LinkedList<int>();
        long best = 0;
        for (var i = 0; i < timeline.Count; i++)
        {
            while (deque.Count > 0 && timeline[deque.Last!.Value].Backlog >= timeline[i].Backlog) deque.RemoveLast();
            deque.AddLast(i);
            while (timeline[deque.First!.Value].Time <= timeline[i].Time - window) deque.RemoveFirst();
            if (timeline[i].Time - timeline[0].Time >= window) best = Math.Max(best, timeline[deque.First!.Value].Backlog);
        }
        return best;
    }

    /// <summary>The sampling interval: the most common gap between instants (robust to a missed sample).</summary>
    public static double Interval(List<Instant> timeline)
    {
        if (timeline.Count < 2) return 0;
        return timeline.Zip(timeline.Skip(1), (a, b) => (b.Time - a.Time).TotalSeconds)
            .GroupBy(x => x).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
    }
}
