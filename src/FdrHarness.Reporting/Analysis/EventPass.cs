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
    public readonly PerSecond DoneFiles = new(), DoneBytes = new(), Deletions = new();

    public sealed class LinkAcc { public long Submitted, Done, Failed, BytesDone; }
    public sealed class ScopeAcc { public long Datasets, Containers, Bytes, TransfersDone, DeletionsDone, Erased; public readonly HashSet<ulong> Files = []; }
    public sealed class RseAcc { public long BytesIn, FilesIn, BytesOut, BytesDeleted, FilesDeleted; }

    public void Run(string runDir)
    {
        foreach (var block in Reader.Blocks(EventColumnReader.PathIn(runDir)))
            Add(block);
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

    private void Add(EventBlock b)
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
            Increment(ByType, type);
            Increment(ByScopeType, (scope, type));
            Increment(ByProtocolType, (b.Protocol[i], type));
            Series(TypeSeries, type).Add(second, 1);
            Series(ScopeSeries, scope).Add(second, 1);
            Series(ProtocolSeries, b.Protocol[i]).Add(second, 1);

            var s = ScopeOf(scope);
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
    }

    private static void Increment<TKey>(Dictionary<TKey, long> d, TKey key) where TKey : notnull =>
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(d, key, out _)++;

    private static PerSecond Series(Dictionary<int, PerSecond> d, int key)
    {
        ref var s = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(d, key, out _);
        return s ??= new PerSecond();
    }

    private ScopeAcc ScopeOf(int scope)
    {
        ref var s = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(Scopes, scope, out _);
        return s ??= new ScopeAcc();
    }

    private RseAcc RseOf(int rse)
    {
        ref var s = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(Rses, rse, out _);
        return s ??= new RseAcc();
    }

    private LinkAcc LinkOf(int src, int dst)
    {
        ref var s = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(Links, (src, dst), out _);
        return s ??= new LinkAcc();
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
