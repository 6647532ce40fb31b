using FdrHarness.Core.Observations;
using FdrHarness.Reporting.Input;

namespace FdrHarness.Reporting.Analysis;

/// <summary>What a Hermes event_type means to the report (Hermes lower-cases types; the lake writes RULE_OK upper-case).</summary>
internal enum Kind
{
    Other, Queued, Submitted, Done, Failed, SubmissionFailed, Lost, DeletionDone, DeletionFailed, RuleOk, CreateDataset,
    CreateContainer, Erase,
}

/// <summary>
/// The one pass over events.parquet: every event-derived figure (matrix, totals, stats per type, scope, protocol, RSE and
/// experiment, series over time, rule completion) is accumulated here block by block, so 1.5 M events are read once.
/// </summary>
internal sealed class EventPass
{
    public readonly EventColumnReader Reader = new();
    private Kind[] _kinds = [];

    public long Total;
    public readonly Dictionary<int, long> ByType = [];
    public readonly Dictionary<(int Scope, int Type), long> ByScopeType = [];
    public readonly Dictionary<(int Protocol, int Type), long> ByProtocolType = [];
    public readonly Dictionary<(int Src, int Dst), LinkAcc> Links = [];
    public long Queued, Submitted, Done, Failed, SubmissionFailed, Lost, Retries, BytesSubmitted, BytesDone;
    public readonly Dictionary<int, ScopeAcc> Scopes = [];
    public readonly Dictionary<int, RseAcc> Rses = [];
    public long[] RuleFirst = [], RuleOk = [];
    /// <summary>The scope of each rule's first event; scopes in which some rule sent RULE_OK (noise scopes never do).</summary>
    public int[] RuleScope = [];
    public readonly HashSet<int> NotifyingScopes = [];
    public long MinTicks = long.MaxValue, MaxTicks = long.MinValue;

    public readonly Dictionary<int, PerSecond> TypeSeries = [], ScopeSeries = [], ProtocolSeries = [];
    public readonly PerSecond DoneFiles = new(), Deletions = new();
    public readonly PerSecond DoneBytes = new();

    public sealed class LinkAcc { public long Submitted, Done, Failed, BytesDone; }
    public sealed class ScopeAcc { public long Datasets, Containers, Bytes, TransfersDone, DeletionsDone, Erased; public readonly HashSet64 Files = new(); }
    public sealed class RseAcc { public long BytesIn, FilesIn, BytesOut, BytesDeleted, FilesDeleted; }

    // Per row the accumulators are found by symbol id + 1 (0 = null) in arrays, not dictionaries: the dictionaries above
    // are filled from them once, after the pass (same keys: those seen at least once).
    private long[] _byType = [];
    private long[][] _byScopeType = [], _byProtocolType = [];
    private PerSecond?[] _typeSeries = [], _scopeSeries = [], _protocolSeries = [];
    private ScopeAcc?[] _scopes = [];
    private RseAcc?[] _rses = [];
    private LinkAcc?[][] _links = []; // [src + 1][dst + 1]

    /// <summary>
    /// Once the events span more than this, every bin the summary can choose by itself is a whole number of minutes from a
    /// whole minute (<see cref="Stats.NiceBinSeconds"/> of more than 6,000 s is at least 60 s), so the series are kept per minute.
    /// </summary>
    internal const long MinutesAfterTicks = 6060 * TimeSpan.TicksPerSecond;

    /// <param name="binSeconds">The report's bin length if it names one (<see cref="ReportOptions.BinSeconds"/>): the series stay per second unless it is whole minutes.</param>
    public EventPass(double? binSeconds = null) => _minutesAllowed = binSeconds is not { } b || b % 60 == 0;

    private readonly bool _minutesAllowed;

    /// <summary>Whether the series went per minute (the summary's bins must then be whole minutes).</summary>
    public bool SeriesPerMinute => DoneFiles.Minutes;

    public void Run(string runDir)
    {
        foreach (var block in Reader.Blocks(EventColumnReader.PathIn(runDir)))
            Add(block);
        Finish();
    }

    /// <summary>The dictionaries filled from the per-id arrays: once, after the last block.</summary>
    internal void Finish()
    {
        for (var t = 0; t < _byType.Length; t++)
            if (_byType[t] > 0) ByType[t - 1] = _byType[t];
        Pairs(_byScopeType, ByScopeType);
        Pairs(_byProtocolType, ByProtocolType);
        Fill(_typeSeries, TypeSeries);
        Fill(_scopeSeries, ScopeSeries);
        Fill(_protocolSeries, ProtocolSeries);
        for (var i = 0; i < _scopes.Length; i++)
            if (_scopes[i] is { } acc) Scopes[i - 1] = acc;
        for (var i = 0; i < _rses.Length; i++)
            if (_rses[i] is { } acc) Rses[i - 1] = acc;
        for (var s = 0; s < _links.Length; s++)
            if (_links[s] is { } row)
                for (var d = 0; d < row.Length; d++)
                    if (row[d] is { } acc) Links[(s - 1, d - 1)] = acc;

        static void Pairs(long[][] counts, Dictionary<(int, int), long> into)
        {
            for (var k = 0; k < counts.Length; k++)
                if (counts[k] is { } row)
                    for (var t = 0; t < row.Length; t++)
                        if (row[t] > 0) into[(k - 1, t - 1)] = row[t];
        }

        static void Fill(PerSecond?[] series, Dictionary<int, PerSecond> into)
        {
            for (var i = 0; i < series.Length; i++)
                if (series[i] is { } s) into[i - 1] = s;
        }
    }

    /// <summary>
    /// Makes room for symbol id <paramref name="id"/> at index id + 1. The callers index their own typed arrays: a
    /// generic slot returned by reference made the shared code of a class-typed array look its type up on every row.
    /// </summary>
    private static T[] Room<T>(ref T[] array, int id)
    {
        if (id + 1 >= array.Length) Array.Resize(ref array, Math.Max(id + 2, array.Length * 2));
        return array;
    }

    private static void Count(ref long[][] counts, int key, int type)
    {
        ref var row = ref Room(ref counts, key)[key + 1];
        row ??= [];
        Room(ref row, type)[type + 1]++;
    }

    private PerSecond SeriesOf(ref PerSecond?[] series, int id)
    {
        var all = Room(ref series, id);
        if (all[id + 1] is { } s) return s;
        s = all[id + 1] = new PerSecond();
        if (DoneFiles.Minutes) s.ToMinutes(); // a series first seen after the others went per minute
        return s;
    }

    private Kind KindOf(int type)
    {
        if (type < 0) return Kind.Other;
        while (_kinds.Length <= type)
        {
            var n = _kinds.Length;
            Array.Resize(ref _kinds, Reader.Types.Count);
            for (var i = n; i < _kinds.Length; i++) _kinds[i] = Classify(Reader.Types[i]);
        }
        return _kinds[type];
    }

    internal static Kind Classify(string type) => type.ToLowerInvariant() switch
    {
        EventTypes.TransferQueued => Kind.Queued,
        EventTypes.TransferSubmitted => Kind.Submitted,
        EventTypes.TransferDone => Kind.Done,
        EventTypes.TransferFailed => Kind.Failed,
        EventTypes.TransferSubmissionFailed => Kind.SubmissionFailed,
        EventTypes.TransferLost => Kind.Lost,
        EventTypes.DeletionDone => Kind.DeletionDone,
        "deletion-failed" => Kind.DeletionFailed,
        "rule_ok" => Kind.RuleOk,
        "create_dts" => Kind.CreateDataset,
        "create_cnt" => Kind.CreateContainer,
        "erase" => Kind.Erase,
        _ => Kind.Other,
    };

    /// <summary>One row group's events, in file order (decoded from the file, or as the run's sink wrote them).</summary>
    internal void Add(EventBlock b)
    {
        for (var i = 0; i < b.Rows; i++)
        {
            var type = b.Type[i];
            var kind = KindOf(type);
            var ticks = b.Ticks[i];
            var second = ticks / TimeSpan.TicksPerSecond;
            var bytes = b.Bytes[i];
            var scope = b.Scope[i];
            Total++;
            if (ticks < MinTicks) MinTicks = ticks;
            if (ticks > MaxTicks) MaxTicks = ticks;
            var protocol = b.Protocol[i];
            Room(ref _byType, type)[type + 1]++;
            Count(ref _byScopeType, scope, type);
            Count(ref _byProtocolType, protocol, type);
            SeriesOf(ref _typeSeries, type).Add(second, 1);
            SeriesOf(ref _scopeSeries, scope).Add(second, 1);
            SeriesOf(ref _protocolSeries, protocol).Add(second, 1);

            var s = Room(ref _scopes, scope)[scope + 1] ??= new ScopeAcc();
            // A file is counted once per scope, with its size from the first event that carries one.
            if (bytes >= 0 && b.NameHash[i] != 0 && s.Files.Add(b.NameHash[i])) s.Bytes += bytes;

            switch (kind)
            {
                case Kind.Queued:
                    Queued++;
                    RuleSeen(b.Rule[i], ticks, scope);
                    break;
                case Kind.Submitted:
                    Submitted++;
                    if (bytes > 0) BytesSubmitted += bytes;
                    if (b.RetryCount[i] > 0) Retries++;
                    LinkOf(b.Src[i], b.Dst[i]).Submitted++;
                    RuleSeen(b.Rule[i], ticks, scope);
                    break;
                case Kind.Done:
                {
                    Done++;
                    var moved = Math.Max(bytes, 0);
                    BytesDone += moved;
                    var link = LinkOf(b.Src[i], b.Dst[i]);
                    link.Done++;
                    link.BytesDone += moved;
                    var dst = RseOf(b.Dst[i]);
                    dst.BytesIn += moved;
                    dst.FilesIn++;
                    RseOf(b.Src[i]).BytesOut += moved;
                    s.TransfersDone++;
                    DoneFiles.Add(second, 1);
                    DoneBytes.Add(second, moved);
                    break;
                }
                case Kind.Failed:
                    Failed++;
                    LinkOf(b.Src[i], b.Dst[i]).Failed++;
                    break;
                case Kind.SubmissionFailed:
                    SubmissionFailed++;
                    LinkOf(b.Src[i], b.Dst[i]).Failed++;
                    break;
                case Kind.Lost:
                    Lost++;
                    break;
                case Kind.DeletionDone:
                {
                    var rse = RseOf(b.Rse[i]);
                    rse.BytesDeleted += Math.Max(bytes, 0);
                    rse.FilesDeleted++;
                    s.DeletionsDone++;
                    Deletions.Add(second, 1);
                    break;
                }
                case Kind.RuleOk:
                    RuleDone(b.Rule[i], ticks, scope);
                    break;
                case Kind.CreateDataset:
                    s.Datasets++;
                    break;
                case Kind.CreateContainer:
                    s.Containers++;
                    break;
                case Kind.Erase:
                    s.Erased++;
                    break;
            }
        }
        MinutesOnceLong();
    }

    /// <summary>After each block: the series per minute once the run is long enough for it.</summary>
    private void MinutesOnceLong()
    {
        if (!_minutesAllowed || DoneFiles.Minutes || MaxTicks - MinTicks <= MinutesAfterTicks) return;
        foreach (var series in (PerSecond?[][])[_typeSeries, _scopeSeries, _protocolSeries])
            foreach (var s in series) s?.ToMinutes();
        DoneFiles.ToMinutes();
        Deletions.ToMinutes();
        DoneBytes.ToMinutes();
    }

    private RseAcc RseOf(int rse) => Room(ref _rses, rse)[rse + 1] ??= new RseAcc();

    private LinkAcc LinkOf(int src, int dst)
    {
        ref var row = ref Room(ref _links, src)[src + 1];
        row ??= [];
        return Room(ref row, dst)[dst + 1] ??= new LinkAcc();
    }

    private void EnsureRule(int rule)
    {
        if (rule < RuleFirst.Length) return;
        var n = RuleFirst.Length;
        var size = Math.Max(rule + 1, n * 2);
        Array.Resize(ref RuleFirst, size);
        Array.Resize(ref RuleOk, size);
        Array.Resize(ref RuleScope, size);
        Array.Fill(RuleFirst, long.MaxValue, n, size - n);
        Array.Fill(RuleOk, long.MaxValue, n, size - n);
        Array.Fill(RuleScope, -1, n, size - n);
    }

    private void RuleSeen(int rule, long ticks, int scope)
    {
        if (rule < 0) return;
        EnsureRule(rule);
        if (ticks < RuleFirst[rule]) RuleFirst[rule] = ticks;
        if (RuleScope[rule] < 0) RuleScope[rule] = scope;
    }

    private void RuleDone(int rule, long ticks, int scope)
    {
        if (rule < 0) return;
        EnsureRule(rule);
        if (ticks < RuleOk[rule]) RuleOk[rule] = ticks;
        if (RuleScope[rule] < 0) RuleScope[rule] = scope;
        if (scope >= 0) NotifyingScopes.Add(scope);
    }
}

/// <summary>
/// A set of non-zero 64-bit hashes (open addressing, linear probing): the per-scope file set takes a few hundred
/// thousand names per run, and this non-generic type is compiled ahead with the assembly where HashSet&lt;ulong&gt; starts
/// interpreted-slow at tier 0 and spends its time re-hashing as it grows. Filled up to 3/4 and grown by half (a slot is
/// found by multiplying, so any size works): about 1.6 slots a name where powers of two filled to half took 2.8 — the
/// fed event pass holds these sets through the lake, so their size is part of the run's peak memory.
/// </summary>
/// <remarks>
/// A large set keeps the hashes it last saw in a small direct-mapped table in front of it (128 KiB, within a core's
/// L2): a file's events come close together (queued, submitted, done), so about half of escape-fdr-2020's 1.6 M
/// additions are answered there instead of by a cache miss into a table of megabytes. Every hash in it is in the set.
/// </remarks>
internal sealed class HashSet64
{
    private const int RecentSlots = 1 << 14;
    private ulong[] _slots = new ulong[1024];
    private ulong[]? _recent;

    public int Count { get; private set; }

    /// <returns>Whether <paramref name="hash"/> (not 0) was not yet in the set.</returns>
    public bool Add(ulong hash)
    {
        if (_recent is { } recent)
        {
            ref var seen = ref recent[(int)hash & (RecentSlots - 1)];
            if (seen == hash) return false;
            seen = hash;
        }
        var slots = _slots;
        var i = Home(hash, slots.Length);
        while (true)
        {
            var slot = slots[i];
            if (slot == hash) return false;
            if (slot == 0) break;
            if (++i == slots.Length) i = 0;
        }
        slots[i] = hash;
        if (++Count > slots.Length / 4 * 3) Grow();
        return true;
    }

    /// <summary>The first slot to try: the mixed hash's top 32 bits scaled to the table (Lemire's multiply-shift).</summary>
    private static int Home(ulong h, int length) => (int)((((h ^ (h >> 29)) * 0xbf58476d1ce4e5b9UL >> 32) * (ulong)length) >> 32);

    private void Grow()
    {
        var old = _slots;
        var slots = new ulong[old.Length + old.Length / 2];
        foreach (var h in old)
        {
            if (h == 0) continue;
            var i = Home(h, slots.Length);
            while (slots[i] != 0)
                if (++i == slots.Length) i = 0;
            slots[i] = h;
        }
        _slots = slots;
        // Once the set outgrows the L2 itself.
        if (slots.Length > 2 * RecentSlots) _recent ??= new ulong[RecentSlots];
    }
}
