using FdrHarness.Core.Figures;
using System.Runtime.InteropServices;
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
        /// <summary>Indexes of <see cref="Samples"/> by time, then by index (the order a stable sort by time gives).</summary>
        public int[] InTimeOrder = [];
    }

    // The samples are walked by loops, not LINQ: PodSample is a struct from another assembly, so LINQ's code over it
    // is not compiled ahead with this one and was JIT-compiled (about 120 methods) on every report.

    /// <summary>The daemon's samples in time order and its timeline, once its samples are all in.</summary>
    internal static void Prepare(DaemonSamples d)
    {
        d.InTimeOrder = InTimeOrder(d.Samples);
        Instants(d);
    }

    private static int[] InTimeOrder(List<PodSample> samples)
    {
        // Through a span: the list's indexer copied each 100-byte sample (its strings with write barriers) to read its time.
        var span = CollectionsMarshal.AsSpan(samples);
        var ticks = new long[span.Length];
        var order = new int[span.Length];
        for (var i = 0; i < ticks.Length; i++) (ticks[i], order[i]) = (span[i].Time.Ticks, i);
        Array.Sort(order, (a, b) => ticks[a] != ticks[b] ? ticks[a].CompareTo(ticks[b]) : a.CompareTo(b));
        return order;
    }

    /// <summary>The timeline: per distinct sample time, in time order, the maxima over its samples (as LINQ's Max: NaN and null only when all are).</summary>
    private static void Instants(DaemonSamples d)
    {
        var samples = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(d.Samples);
        var order = d.InTimeOrder;
        var instants = 0;
        for (var k = 0; k < order.Length; k++)
            if (k == 0 || samples[order[k]].Time != samples[order[k - 1]].Time) instants++;
        d.Timeline.EnsureCapacity(instants);
        for (var k = 0; k < order.Length;)
        {
            ref readonly var s = ref samples[order[k]];
            var (time, cpu, memory, backlog, cpuLimit, memoryLimit, pods) = (s.Time, s.CpuCores, s.MemoryBytes, s.Backlog, s.CpuLimit, s.MemoryLimit, 1);
            for (k++; k < order.Length && samples[order[k]].Time == time; k++, pods++)
            {
                ref readonly var x = ref samples[order[k]];
                cpu = Max(cpu, x.CpuCores);
                memory = Math.Max(memory, x.MemoryBytes);
                backlog = Math.Max(backlog, x.Backlog);
                cpuLimit = x.CpuLimit is not { } c ? cpuLimit : cpuLimit is not { } l ? c : Max(l, c);
                memoryLimit = x.MemoryLimit is not { } m ? memoryLimit : memoryLimit is not { } ml ? m : Math.Max(ml, m);
            }
            d.Timeline.Add(new Instant(time, cpu, memory, backlog, cpuLimit, memoryLimit, pods));
        }
    }

    /// <summary>LINQ's Max of two doubles: NaN only while every value was NaN.</summary>
    private static double Max(double value, double x) => x > value || double.IsNaN(value) ? x : value;

    public readonly record struct Instant(DateTime Time, double Cpu, long Memory, long Backlog, double? CpuLimit, long? MemoryLimit, int Pods);

    public readonly SortedDictionary<string, DaemonSamples> Daemons = new(StringComparer.Ordinal);
    public readonly List<PodIncident> Incidents = [];
    public long MinTicks = long.MaxValue, MaxTicks = long.MinValue, MinSampleTicks = long.MaxValue;

    public void Run(ObservationReader reader, string runDir)
    {
        // A target that samples no pods (or a run killed before its first sample) still gets the event half of the report.
        var path = Path.Combine(runDir, ParquetObservationSink.SamplesFile);
        var batches = new List<PodSample[]>();
        if (File.Exists(path)) batches.AddRange(Input.SampleColumns.Batches(path) ?? reader.SampleBatches());
        // Counted first, so that each daemon's list is allocated once at its size (the lists of 100-byte samples grown
        // by doubling allocated three times what they hold).
        var counts = new Dictionary<DaemonSamples, int>();
        DaemonSamples? of = null;
        foreach (var batch in batches)
            foreach (ref readonly var s in batch.AsSpan())
            {
                // Consecutive samples are often of one daemon (its pods; the decoder gives a name as one string).
                if (!ReferenceEquals(of?.Daemon, s.Daemon)) of = Of(s.Daemon);
                CollectionsMarshal.GetValueRefOrAddDefault(counts, of, out _)++;
            }
        foreach (var d in Daemons.Values)
            if (counts.TryGetValue(d, out var count)) d.Samples.EnsureCapacity(count);
        of = null;
        foreach (var batch in batches)
            foreach (ref readonly var s in batch.AsSpan())
            {
                if (!ReferenceEquals(of?.Daemon, s.Daemon)) of = Of(s.Daemon);
                of.Samples.Add(s);
                MinTicks = Math.Min(MinTicks, s.Time.Ticks);
                MinSampleTicks = Math.Min(MinSampleTicks, s.Time.Ticks);
                MaxTicks = Math.Max(MaxTicks, s.Time.Ticks);
            }
        // A target that records no pod lifecycle (or an old run) still gets a report, without the reasons.
        var lifecycle = Path.Combine(runDir, ParquetObservationSink.LifecycleFile);
        if (File.Exists(lifecycle))
        {
            if (Input.RecordColumns.Lifecycle(lifecycle) is { } decoded)
                foreach (ref readonly var e in decoded.AsSpan()) Add(e);
            else
                foreach (var e in reader.Lifecycle()) Add(e);
        }
        foreach (var d in Daemons.Values) Prepare(d);
        Incidents.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : string.CompareOrdinal(a.Pod, b.Pod));
    }

    private void Add(in PodLifecycleEvent e)
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

    private DaemonSamples Of(string daemon)
    {
        if (!Daemons.TryGetValue(daemon, out var d)) Daemons[daemon] = d = new DaemonSamples { Daemon = daemon };
        return d;
    }

    public static ResourceUsage Usage(DaemonSamples d, int? threads, DateTime? runStart = null)
    {
        var samples = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(d.Samples);
        var (cpus, mems) = (new List<double>(), new List<double>());
        foreach (ref readonly var s in samples)
            if (s.State == "Running") { cpus.Add(s.CpuCores); mems.Add(s.MemoryBytes); }
        var (cpu, mem) = (cpus.ToArray(), mems.ToArray());
        Array.Sort(cpu);
        Array.Sort(mem);
        var interval = Interval(d.Timeline);
        var last = d.Samples.Count > 0 ? d.Samples[^1] : default;
        var first = d.Samples.Count > 0 ? d.Samples[0] : default;
        var oom = d.Incidents.Count(i => i.Event == LifecycleEvents.OomKilled);
        var chaos = d.Incidents.Count(i => i.Event == LifecycleEvents.Killed && (i.Reason ?? "").StartsWith("chaos:", StringComparison.Ordinal));
        var other = d.Incidents.Count(i => i.Event == LifecycleEvents.Killed) - chaos;
        var restarts = d.RestartEvents > 0 ? d.RestartEvents : MostRestartsSummed(samples);
        long? memAtOom = null;
        foreach (var i in d.Incidents.Where(i => i.Event == LifecycleEvents.OomKilled))
        {
            // The pod was at its limit when killed: the limit in force then, or the largest working set seen before it.
            long? limit = null, most = null;
            foreach (ref readonly var s in samples)
            {
                if (s.Time > i.Time) continue;
                if (s.MemoryLimit is not null) limit = s.MemoryLimit;
                most = most is { } m ? Math.Max(m, s.MemoryBytes) : s.MemoryBytes;
            }
            memAtOom = Math.Max(memAtOom ?? 0, Math.Max(limit ?? 0, most ?? 0));
        }
        var pending = PendingInstants(d, runStart) * interval;
        // Time with some pod crash-looping, not the pods' times added up.
        var crash = DistinctTimes(d, "CrashLoopBackOff") * interval;
        var status = oom > 0 || chaos > 0 || other > 0 || restarts > 0 ? "Restarted" : pending > 0 ? "Pending" : "OK";
        return new ResourceUsage
        {
            Daemon = d.Daemon,
            Replicas = (int)Most(d.Timeline, t => t.Pods),
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
            PeakBacklog = Most(d.Timeline, t => t.Backlog),
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
        var samples = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(d.Samples);
        var first = runStart ?? (d.InTimeOrder.Length > 0 ? samples[d.InTimeOrder[0]].Time : default);
        // Per pod, its samples in time order: whether its first came after the start and it has not yet run.
        var waiting = new Dictionary<string, bool>(StringComparer.Ordinal);
        var (instants, lastTime) = (0, (DateTime?)null);
        foreach (var i in d.InTimeOrder)
        {
            ref readonly var s = ref samples[i];
            ref var pending = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(waiting, s.Pod, out var seen);
            if (!seen) pending = s.Time > first;
            if (!pending) continue;
            if (s.State == "Running") pending = false;
            else if (s.State == "Pending" && s.Time != lastTime) (instants, lastTime) = (instants + 1, s.Time); // times come in order: distinct = changes
        }
        return instants;
    }

    /// <summary>Distinct times at which some pod was in <paramref name="state"/>.</summary>
    private static int DistinctTimes(DaemonSamples d, string state)
    {
        var samples = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(d.Samples);
        var (count, lastTime) = (0, (DateTime?)null);
        foreach (var i in d.InTimeOrder)
            if (samples[i].State == state && samples[i].Time != lastTime) (count, lastTime) = (count + 1, samples[i].Time);
        return count;
    }

    /// <summary>Per pod its largest restart count, summed over the pods.</summary>
    private static int MostRestartsSummed(ReadOnlySpan<PodSample> samples)
    {
        var most = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (ref readonly var s in samples)
        {
            ref var m = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(most, s.Pod, out var seen);
            m = seen ? Math.Max(m, s.Restarts) : s.Restarts;
        }
        var sum = 0;
        foreach (var m in most.Values) sum = checked(sum + m);
        return sum;
    }

    private static long Most(List<Instant> timeline, Func<Instant, long> value)
    {
        long most = 0;
        for (var i = 0; i < timeline.Count; i++) most = i == 0 ? value(timeline[i]) : Math.Max(most, value(timeline[i]));
        return most;
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
        if (timeline[^1].Time - timeline[0].Time < window)
        {
            var least = timeline[0].Backlog;
            foreach (var t in timeline) least = Math.Min(least, t.Backlog);
            return least;
        }
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
        var gaps = new double[timeline.Count - 1];
        for (var i = 0; i < gaps.Length; i++) gaps[i] = (timeline[i + 1].Time - timeline[i].Time).TotalSeconds;
        Array.Sort(gaps);
        // The longest run of equal gaps; of equally long runs the smallest gap.
        var (best, bestRun) = (gaps[0], 0);
        for (int i = 0, j; i < gaps.Length; i = j)
        {
            for (j = i + 1; j < gaps.Length && gaps[j].Equals(gaps[i]); j++) { }
            if (j - i > bestRun) (best, bestRun) = (gaps[i], j - i);
        }
        return best;
    }
}
