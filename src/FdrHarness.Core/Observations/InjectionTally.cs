namespace FdrHarness.Core.Observations;

/// <summary>
/// Sums injected files into <see cref="InjectionRecord"/>s per interval, scope, DID and RSE: a row per dataset and RSE
/// each interval instead of a row per file. Rows come out in (time, scope, name, RSE) order whatever order the files
/// came in within an interval, so the file is deterministic. Thread-safe (a live run's batches end on many tasks).
/// </summary>
/// <remarks>
/// With <c>streamTo</c> (a producer whose time only moves forward, the embedded lake) the intervals before the one a
/// file arrives in are written out at once and memory holds one interval; without it rows stay until <see cref="Take"/>
/// (a live run writes them once the end's read-back has checked them).
/// </remarks>
public sealed class InjectionTally
{
    private readonly long _interval;
    private readonly IObservationSink? _streamTo;
    private readonly Dictionary<Key, Sum> _sums = [];
    private readonly Lock _gate = new();
    private long _latest = long.MinValue;
    // Consecutive files mostly go to the same dataset and RSE: their sum is found without hashing the key (a third of
    // the cost on a million files).
    private Key _lastKey;
    private Sum? _last;

    public InjectionTally(TimeSpan interval, IObservationSink? streamTo = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _interval = interval.Ticks;
        _streamTo = streamTo;
    }

    /// <summary>Files (and their bytes) registered at <paramref name="time"/> into DID <paramref name="scope"/>:<paramref name="name"/> on <paramref name="rse"/>.</summary>
    public void Add(DateTime time, string scope, string name, string rse, long files, long bytes)
    {
        var start = time.Ticks - time.Ticks % _interval;
        lock (_gate)
        {
            if (_streamTo is not null && start > _latest)
            {
                foreach (var r in TakeLocked(start)) _streamTo.Injection(r);
                _latest = start;
            }
            var key = new Key(start, scope, name, rse);
            if (_last is null || !key.Equals(_lastKey))
            {
                if (!_sums.TryGetValue(key, out _last)) _sums[key] = _last = new Sum();
                _lastKey = key;
            }
            _last.Files += files;
            _last.Bytes += bytes;
        }
    }

    /// <summary>Writes what is left to the sink given at construction (the end of a run).</summary>
    public void Flush()
    {
        if (_streamTo is null) throw new InvalidOperationException("this tally has no sink to flush to; Take its rows");
        lock (_gate)
            foreach (var r in TakeLocked(long.MaxValue)) _streamTo.Injection(r);
    }

    /// <summary>Every row, in order, removed from the tally.</summary>
    public IReadOnlyList<InjectionRecord> Take()
    {
        lock (_gate) return TakeLocked(long.MaxValue);
    }

    /// <summary>Files per DID so far.</summary>
    public IReadOnlyDictionary<(string Scope, string Name), long> FilesByDid()
    {
        lock (_gate)
            return _sums.GroupBy(kv => (kv.Key.Scope, kv.Key.Name)).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value.Files));
    }

    /// <summary>Forgets a DID's rows (files the catalog turned out not to hold); returns the files forgotten.</summary>
    public long Remove(string scope, string name)
    {
        lock (_gate)
        {
            var keys = _sums.Keys.Where(k => k.Scope == scope && k.Name == name).ToList();
            var files = keys.Sum(k => _sums[k].Files);
            foreach (var k in keys) _sums.Remove(k);
            _last = null;
            return files;
        }
    }

    private List<InjectionRecord> TakeLocked(long before)
    {
        var rows = new List<InjectionRecord>();
        if (_sums.Count == 0) return rows;
        var keys = _sums.Keys.Where(k => k.Start < before).ToList();
        keys.Sort();
        _last = null;
        foreach (var k in keys)
        {
            var sum = _sums[k];
            _sums.Remove(k);
            rows.Add(new InjectionRecord
            {
                Time = new DateTime(k.Start, DateTimeKind.Utc), Scope = k.Scope, Name = k.Name, Rse = k.Rse, Files = sum.Files, Bytes = sum.Bytes,
            });
        }
        return rows;
    }

    private sealed class Sum
    {
        public long Files, Bytes;
    }

    private readonly record struct Key(long Start, string Scope, string Name, string Rse) : IComparable<Key>
    {
        public int CompareTo(Key other)
        {
            var c = Start.CompareTo(other.Start);
            if (c == 0) c = string.CompareOrdinal(Scope, other.Scope);
            if (c == 0) c = string.CompareOrdinal(Name, other.Name);
            return c != 0 ? c : string.CompareOrdinal(Rse, other.Rse);
        }
    }
}
