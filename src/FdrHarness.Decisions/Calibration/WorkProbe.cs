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
    // As read: per attempt its key, start (ticks) and outcome ((ms << 1) | link failed; ms -1 when unknown).
    private ulong[] _keys = new ulong[1 << 16];
    private long[] _started = new long[1 << 16];
    private long[] _outcomes = new long[1 << 16];
    private int _count;
    // After the first replay asked: the attempts per file and destination in the order they started, each file's run
    // ended by End; an open-addressing table from key to the file's first attempt and the current replay's next one.
    private long[]? _attempts;
    private Entry[] _table = [];
    private int _mask;
    private bool _empty = true;

    private struct Entry
    {
        public ulong Key;
        public int First; // the first attempt's index + 1; 0: an empty entry
        public int Next;  // the current replay's next attempt
    }

    private const long End = long.MinValue;

    // The last scope and destination hashed (few distinct strings): their hashes are reused.
    private string? _scope, _destination;
    private ulong _scopeHash, _destinationHash;

    private static ulong Key(ulong scope, string name, ulong destination) =>
        StableHash.Combine(StableHash.Combine(scope, StableHash.Of(1, name)), destination);

    /// <summary>A transfer-done or transfer-failed event (with scope, name, dst_rse, duration, started_at).</summary>
    public void Add(in HermesEvent e, bool linkFailed)
    {
        if (e.Scope is null || e.Name is null || e.DstRse is null) return;
        // A duration the run did not know (-1) leaves the replay's own.
        var ms = e.Duration is { } d && d >= 0 ? (long)Math.Round(d * 1000) : -1;
        if (!string.Equals(e.Scope, _scope, StringComparison.Ordinal)) (_scope, _scopeHash) = (e.Scope, StableHash.Of(0, e.Scope));
        if (!string.Equals(e.DstRse, _destination, StringComparison.Ordinal)) (_destination, _destinationHash) = (e.DstRse, StableHash.Of(2, e.DstRse));
        if (_count == _keys.Length)
        {
            Array.Resize(ref _keys, _count * 2);
            Array.Resize(ref _started, _count * 2);
            Array.Resize(ref _outcomes, _count * 2);
        }
        _keys[_count] = Key(_scopeHash, e.Name, _destinationHash);
        _started[_count] = e.StartedAt?.Ticks ?? 0;
        _outcomes[_count] = (ms << 1) | (linkFailed ? 1L : 0L);
        _count++;
    }

    private readonly record struct Read(ulong Key, long Started, int Index) : IComparable<Read>
    {
        // Stable: attempts that started at the same instant keep the run's order.
        public int CompareTo(Read other) =>
            Key != other.Key ? Key.CompareTo(other.Key) : Started != other.Started ? Started.CompareTo(other.Started) : Index.CompareTo(other.Index);
    }

    /// <summary>A cursor over the attempts for one replay (one replay at a time: a new cursor starts every file afresh).</summary>
    public ITransferOutcomes Replay()
    {
        if (_attempts is null) Index();
        for (var h = 0; h < _table.Length; h++) _table[h].Next = _table[h].First - 1;
        return new Cursor(this);
    }

    private void Index()
    {
        var sorted = new Read[_count];
        for (var i = 0; i < _count; i++) sorted[i] = new Read(_keys[i], _started[i], i);
        Array.Sort(sorted);
        var distinct = 0;
        for (var i = 0; i < _count; i++) if (i == 0 || sorted[i].Key != sorted[i - 1].Key) distinct++;
        var capacity = 16;
        while (capacity < 2 * distinct) capacity <<= 1;
        (_table, _mask, _empty) = (new Entry[capacity], capacity - 1, _count == 0);
        var attempts = new long[_count + distinct];
        var n = 0;
        for (var i = 0; i < _count; i++)
        {
            if (i == 0 || sorted[i].Key != sorted[i - 1].Key)
            {
                if (i > 0) attempts[n++] = End; // the end of the previous file's attempts
                var h = Home(sorted[i].Key);
                while (_table[h].First != 0) h = (h + 1) & _mask;
                _table[h] = new Entry { Key = sorted[i].Key, First = n + 1 };
            }
            attempts[n++] = _outcomes[sorted[i].Index];
        }
        if (_count > 0) attempts[n] = End;
        _attempts = attempts;
        (_keys, _started, _outcomes) = ([], [], []);
    }

    private int Home(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> 32) & _mask;

    /// <summary>The next attempt of a file and destination in the current replay.</summary>
    private bool Take(ulong key, out long outcome)
    {
        outcome = End;
        if (_empty) return false;
        for (var h = Home(key); ; h = (h + 1) & _mask)
        {
            ref var e = ref _table[h];
            if (e.First == 0) return false;
            if (e.Key != key) continue;
            outcome = _attempts![e.Next];
            if (outcome == End) return false;
            e.Next++;
            return true;
        }
    }

    private sealed class Cursor(RunTransfers run) : ITransferOutcomes
    {
        private string? _scope, _destination;
        private ulong _scopeHash, _destinationHash;

        public bool Next(string scope, string name, string destination, out bool linkFailed, out long milliseconds)
        {
            if (!ReferenceEquals(scope, _scope)) (_scope, _scopeHash) = (scope, StableHash.Of(0, scope));
            if (!ReferenceEquals(destination, _destination)) (_destination, _destinationHash) = (destination, StableHash.Of(2, destination));
            (linkFailed, milliseconds) = (false, -1);
            if (!run.Take(Key(_scopeHash, name, _destinationHash), out var v)) return false;
            (linkFailed, milliseconds) = ((v & 1) != 0, v >> 1);
            return true;
        }
    }
}
