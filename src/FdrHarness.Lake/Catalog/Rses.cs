using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Simulation;

namespace FdrHarness.Lake.Catalog;

/// <summary>The RSEs, as Rucio's core/rse.py: their live states by id (the scenario's order), found by name or expression.</summary>
public sealed class Rses
{
    private readonly IReadOnlyList<RseSpec> _specs;
    // int, not byte: Dictionary over string and byte is compiled at run time (not in the ReadyToRun image).
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    internal Rses(IReadOnlyList<RseSpec> specs, VirtualClock clock)
    {
        if (specs.Count is 0 or > 250) throw new ArgumentException("the embedded lake needs 1 to 250 RSEs");
        _specs = specs;
        // An RSE reads the clock to date its availability changes.
        All = specs.Select((r, i) => new RseState(r, (byte)i, () => clock.NowMs)).ToArray();
        for (var i = 0; i < All.Length; i++) _index[All[i].Name] = i;
    }

    public RseState[] All { get; }
    public int Count => All.Length;
    public RseState this[int id] => All[id];

    public byte Id(string name) => (byte)_index[name];

    public bool Exists(string name) => _index.ContainsKey(name);

    // An expression's RSEs by its text: the RSEs' attributes do not change during a run, and rules are made by the
    // hundred thousand from a few expressions (ATLAS day: evaluating each rule's was a third of what the lake allocated).
    private readonly Dictionary<string, byte[]> _selected = new(StringComparer.Ordinal);

    /// <summary>The ids of the RSEs an expression matches, in id order (an array shared by every caller: read only).</summary>
    public byte[] Select(RseExpression expression)
    {
        if (_selected.TryGetValue(expression.Text, out var cached)) return cached;
        // A loop: LINQ's Select to bytes was compiled at run time (not in the ReadyToRun image).
        var names = expression.Evaluate(_specs);
        var ids = new byte[All.Length];
        var n = 0;
        foreach (var r in All)
            if (names.Contains(r.Name)) ids[n++] = r.Id;
        var matched = new byte[n];
        Array.Copy(ids, matched, n);
        return _selected[expression.Text] = matched;
    }
}

/// <summary>An RSE's live state: usage against quota and watermark, and which operations an outage took away.</summary>
public sealed class RseState(RseSpec spec, byte id, Func<long> now)
{
    public RseSpec Spec { get; } = spec;
    public byte Id { get; } = id;
    public string Name => Spec.Name;
    public string Scheme { get; } = spec.Protocols.Count > 0 ? spec.Protocols[0].Scheme : "davs";
    public long Quota => Spec.Quota.Bytes;
    /// <summary>Bytes of available replicas.</summary>
    public long Used;
    /// <summary>Bytes promised to replicas being copied: counted against the quota before they arrive.</summary>
    public long Reserved;
    public long MaxUsed;
    /// <summary>Bytes of every replica that ever arrived; minus <see cref="Used"/>, the bytes removed.</summary>
    public long Arrived;

    private readonly Availability _read = new(spec.Availability.Read), _write = new(spec.Availability.Write), _delete = new(spec.Availability.Delete);

    public bool Read => _read.Now;
    public bool Write => _write.Now;
    public bool Delete => _delete.Now;

    /// <summary>An outage of one operation begins or ends now; overlapping outages keep it down until the last ends.</summary>
    public void Outage(RseOperation operation, bool begin)
    {
        var a = operation switch { RseOperation.Read => _read, RseOperation.Write => _write, _ => _delete };
        a.Outage(begin, now());
    }

    /// <summary>Whether the RSE was readable at an instant up to now (FTS settles transfers up to a second late).</summary>
    public bool ReadableAt(long at) => _read.At(at);

    public bool WritableAt(long at) => _write.At(at);

    public bool Fits(long bytes) => Used + Reserved + bytes <= Quota;

    /// <summary>One operation's availability: the scenario's, minus the outages in progress; and the instants it flipped.</summary>
    private sealed class Availability(bool initial)
    {
        private readonly List<long> _flips = [];
        private int _outages;

        public bool Now => initial && _outages == 0;

        public void Outage(bool begin, long at)
        {
            var before = Now;
            _outages = Math.Max(0, _outages + (begin ? 1 : -1));
            if (Now != before) _flips.Add(at);
        }

        /// <summary>The value at <paramref name="at"/>: the current one, flipped once per change after that instant.</summary>
        public bool At(long at)
        {
            var v = Now;
            for (var i = _flips.Count - 1; i >= 0 && _flips[i] > at; i--) v = !v;
            return v;
        }
    }
}

