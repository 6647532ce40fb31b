using FdrHarness.Core.Observations;
using FdrHarness.Core.Synthetic;
using FdrHarness.Lake.Cluster;
using FdrHarness.Lake.Daemons;
using FdrHarness.Lake.Simulation;

namespace FdrHarness.Decisions.Calibration;

/// <summary>
/// What one pod's work model multiplied by its parameters in one sample interval of a replayed run: the CPU-seconds'
/// regressors (running seconds for idle_cpu, item units for cost_per_item, bulks for cost_per_bulk) and the memory's
/// candidate moments: the units in flight (memory_per_item) and finished since the container started (cache_per_item)
/// at each moment the lake looks at the working set (a take, and the sample), keeping only those no later moment
/// outdoes in both (the cache only grows within an interval, so the highest working set is one of them).
/// </summary>
public readonly record struct PodWork(string Daemon, int Ordinal, DateTime Time, double RunSeconds, double ItemUnits, double Bulks,
    MemoryMoment[] Moments);

/// <summary>Units in flight and units finished since the container started, at one moment the lake saw the pod's working set.</summary>
public readonly record struct MemoryMoment(long InFlight, long Finished);

/// <summary>
/// Replays a run on the lake and records <see cref="PodWork"/> per pod sample, keyed as the run's samples are: daemon,
/// the pod's ordinal among its daemon's pods (names come from a counter shared by all daemons) and time. It mirrors
/// <see cref="Pod.UseCpu"/>: a tick's work is spread over the period until the pod's next tick.
/// </summary>
internal sealed class WorkProbe(RunTransfers? transfers = null) : IWorkMeter, IObservationSink
{
    /// <summary>The run's transfer attempts, which the replay follows (each replay from the first attempt).</summary>
    public ITransferOutcomes? Outcomes { get; } = transfers?.Replay();

    private sealed class Tally
    {
        public int Restarts;
        public long Finished;
        // The interval's moments so far, latest last; each has fewer units in flight than the one before it.
        public readonly List<MemoryMoment> Moments = [];
        public double RateRun, RateUnits, RateBulks, Run, Units, Bulks, RunAt, UnitsAt, BulksAt;
        public long Since;
    }

    private readonly Dictionary<string, (Pod Pod, Tally Tally)> _pods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _ordinals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perDaemon = new(StringComparer.Ordinal);
    public List<PodWork> Rows { get; } = [];

    private Tally Of(Pod pod)
    {
        if (!_pods.TryGetValue(pod.Name, out var e)) _pods[pod.Name] = e = (pod, new Tally { Restarts = pod.Restarts });
        if (e.Tally.Restarts != pod.Restarts)
        {
            // The container restarted: its cache started again from nothing.
            e.Tally.Restarts = pod.Restarts;
            e.Tally.Finished = 0;
        }
        return e.Tally;
    }

    private static long InFlight(Pod pod)
    {
        long units = 0;
        foreach (var w in pod.Workers) if (w.Busy) units += w.Units;
        return units;
    }

    public void Took(Pod pod, long units)
    {
        var t = Of(pod);
        Saw(t, InFlight(pod));
    }

    /// <summary>
    /// The lake saw the working set (<see cref="Pod.SawMemory"/>): a moment with as many units in flight or more than an
    /// earlier one of the interval outdoes it, as it has at least the same cache.
    /// </summary>
    private static void Saw(Tally t, long inFlight)
    {
        var m = t.Moments;
        while (m.Count > 0 && m[^1].InFlight <= inFlight) m.RemoveAt(m.Count - 1);
        m.Add(new MemoryMoment(inFlight, t.Finished));
    }

    public void Finished(Pod pod, long units) => Of(pod).Finished += units;

    public void Ticked(Pod pod, long now, double seconds, double itemUnits, double bulks)
    {
        var t = Of(pod);
        Settle(t, now);
        (t.RateRun, t.RateUnits, t.RateBulks) = (1, itemUnits / seconds, bulks / seconds);
    }

    private static void Settle(Tally t, long now)
    {
        var dt = (now - t.Since) / 1000.0;
        t.Run += t.RateRun * dt;
        t.Units += t.RateUnits * dt;
        t.Bulks += t.RateBulks * dt;
        t.Since = now;
    }

    public void Sample(in PodSample s)
    {
        if (!_ordinals.TryGetValue(s.Pod, out var ordinal))
        {
            _perDaemon.TryGetValue(s.Daemon, out ordinal);
            _ordinals[s.Pod] = ordinal;
            _perDaemon[s.Daemon] = ordinal + 1;
        }
        if (!_pods.TryGetValue(s.Pod, out var e)) return; // never ran a tick: nothing to regress on
        var t = Of(e.Pod);
        var now = (long)Math.Round((s.Time - VirtualClock.Epoch).TotalMilliseconds);
        Settle(t, now);
        // The lake's sample sees the working set of a running pod, then starts the next interval's peak afresh: what
        // was in flight at this sample counts in the next interval only if it is still there at a take or the next sample.
        if (s.State == "Running") Saw(t, InFlight(e.Pod));
        Rows.Add(new PodWork(s.Daemon, ordinal, s.Time, t.Run - t.RunAt, t.Units - t.UnitsAt, t.Bulks - t.BulksAt, [.. t.Moments]));
        (t.RunAt, t.UnitsAt, t.BulksAt) = (t.Run, t.Units, t.Bulks);
        t.Moments.Clear();
    }

    public void Event(in HermesEvent e) { }
    public void Lifecycle(in PodLifecycleEvent e) { }
    public void Fault(in FaultRecord f) { }
    public void Injection(in InjectionRecord r) { }
    public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows) { }
}

/// <summary>
/// The transfer attempts a run observed (transfer-done and transfer-failed in events.parquet), per file and destination
/// in the order they started: whether the link failed each (a failure not caused by unavailable storage) and its
/// duration. The replay takes them in turn (<see cref="ITransferOutcomes"/>), so its transfers end as the run's did
/// instead of being drawn again with the fitted link probabilities, which moved failed transfers' end times and with
/// them the conveyors' work. Files are keyed by a 64-bit hash of scope, name and destination.
/// </summary>
internal sealed class RunTransfers
{
    private readonly List<(ulong Key, long Started, bool LinkFailed, long Milliseconds)> _read = [];
    private Dictionary<ulong, int>? _first;
    private (bool LinkFailed, long Milliseconds)[] _attempts = [];

    private static ulong Key(string scope, string name, string destination) =>
        StableHash.Combine(StableHash.Combine(StableHash.Of(0, scope), StableHash.Of(1, name)), StableHash.Of(2, destination));

    /// <summary>A transfer-done or transfer-failed event (with scope, name, dst_rse, duration, started_at).</summary>
    public void Add(in HermesEvent e, bool linkFailed)
    {
        if (e.Scope is null || e.Name is null || e.DstRse is null) return;
        // A duration the run did not know (-1) leaves the replay's own.
        var ms = e.Duration is { } d && d >= 0 ? (long)Math.Round(d * 1000) : -1;
        _read.Add((Key(e.Scope, e.Name, e.DstRse), e.StartedAt?.Ticks ?? 0, linkFailed, ms));
    }

    /// <summary>A cursor over the attempts for one replay.</summary>
    public ITransferOutcomes Replay()
    {
        if (_first is null)
        {
            // Stable: attempts that started at the same instant keep the run's order.
            var sorted = _read.Select((a, i) => (a, i)).OrderBy(p => p.a.Key).ThenBy(p => p.a.Started).ThenBy(p => p.i).Select(p => p.a).ToList();
            _first = [];
            var attempts = new List<(bool, long)>(sorted.Count + 1);
            for (var i = 0; i < sorted.Count; i++)
            {
                if (i == 0 || sorted[i].Key != sorted[i - 1].Key)
                {
                    if (i > 0) attempts.Add((false, long.MinValue)); // the end of the previous file's attempts
                    _first[sorted[i].Key] = attempts.Count;
                }
                attempts.Add((sorted[i].LinkFailed, sorted[i].Milliseconds));
            }
            attempts.Add((false, long.MinValue));
            _attempts = [.. attempts];
            _read.Clear();
            _read.TrimExcess();
        }
        return new Cursor(_first, _attempts);
    }

    private sealed class Cursor(Dictionary<ulong, int> first, (bool LinkFailed, long Milliseconds)[] attempts) : ITransferOutcomes
    {
        private readonly Dictionary<ulong, int> _next = [];

        public bool Next(string scope, string name, string destination, out bool linkFailed, out long milliseconds)
        {
            var key = Key(scope, name, destination);
            (linkFailed, milliseconds) = (false, -1);
            if (!_next.TryGetValue(key, out var i) && !first.TryGetValue(key, out i)) return false;
            if (attempts[i].Milliseconds == long.MinValue) return false;
            (linkFailed, milliseconds) = attempts[i];
            _next[key] = i + 1;
            return true;
        }
    }
}
