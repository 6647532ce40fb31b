using FdrHarness.Core.Observations;
using FdrHarness.Core.Synthetic;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Daemons;
using FdrHarness.Lake.Simulation;

namespace FdrHarness.Lake;

/// <summary>
/// What every part of the lake is handed instead of the whole lake (as Polly hands a strategy its ResilienceContext
/// with the TimeProvider and the Randomizer): virtual time and the queue of timed actions, the seeded pick and id
/// streams, the sink (and Rucio's messages table, which hermes works off), the run's counters and, for calibration,
/// the meter.
/// </summary>
public sealed class LakeContext
{
    private readonly ulong _idKey;
    private readonly ulong _pickKey;
    // The id streams of the kinds events name millions of times, hashed once rather than per id.
    private readonly ulong _requestKey;
    private readonly ulong _ftsJobKey;

    internal LakeContext(long seed, IObservationSink sink, IWorkMeter? meter)
    {
        Seed = seed;
        Sink = sink;
        Meter = meter;
        _idKey = StableHash.Of((ulong)seed, "ids");
        _pickKey = StableHash.Of((ulong)seed, "placement");
        _requestKey = StableHash.Of(_idKey, "request");
        _ftsJobKey = StableHash.Of(_idKey, "fts-job");
    }

    public long Seed { get; }
    public VirtualClock Clock { get; } = new();
    public EventQueue Queue { get; } = new();
    public long Now => Clock.NowMs;
    public DateTime UtcNow => Clock.UtcNow;

    public IObservationSink Sink { get; }
    /// <summary>Calibration's view of the daemons' work; null in an ordinary run.</summary>
    public IWorkMeter? Meter { get; }

    /// <summary>Rucio's messages table: one row per event, which hermes sends to the broker.</summary>
    public RowQueue Messages { get; } = new();

    public LakeCounters Counters { get; } = new();

    /// <summary>Counters of the shard's part (files injected and refused, transfers); the whole run's without a shard.</summary>
    public LakeCounters Part { get; } = new();

    public void Emit(in HermesEvent e)
    {
        Sink.Event(e);
        Counters.Events++;
        Messages.Add(1);
    }

    /// <summary>A deterministic number for a choice identified by (what, a, b).</summary>
    public ulong Pick(ulong what, long a, long b = 0) => StableHash.Combine(StableHash.Combine(_pickKey ^ what, (ulong)a), (ulong)b);

    /// <summary>The key of a kind of choice for <see cref="Pick"/>.</summary>
    public static ulong Key(string what) => StableHash.Of(0, what);

    /// <summary>32 lower-case hex digits, derived from the seed, a kind of id and a number (request and rule ids).</summary>
    public string Hex32(string kind, long id) => Hex32Of(StableHash.Of(_idKey, kind), id).Text!;

    /// <summary>A request's id: <see cref="Hex32"/> of ("request", <paramref name="request"/>), as its number.</summary>
    public HexId RequestId(long request) => Hex32Of(_requestKey, request);

    private static HexId Hex32Of(ulong kindKey, long id)
    {
        var k = StableHash.Combine(kindKey, (ulong)id);
        return HexId.Hex32(k, StableHash.Combine(k, 1));
    }

    /// <summary>An FTS job id in UUID form (8-4-4-4-12 of a <see cref="Hex32"/>), derived from the seed and the request.</summary>
    public HexId FtsJobId(int request)
    {
        var k = StableHash.Combine(_ftsJobKey, (ulong)request);
        return HexId.Uuid(k, StableHash.Combine(k, 1));
    }
}

/// <summary>End-of-run counters kept while running.</summary>
public sealed class LakeCounters
{
    /// <summary>Limit changes the API server would refuse (a request above its limit after the merge), with why.</summary>
    public readonly List<string> LimitChangesRefused = [];
    public long FilesInjected, FilesRefused, Events;
    public long TransfersQueued, TransfersSubmitted, TransfersDone, TransfersFailed, TransfersCancelled, BytesTransferred;
    public long Deletions, BytesDeleted;
    public long QuotaRefusals, QuotaExceededUnnoticed, RulesOkWithLockNotOk;
    public long RulesCreated;
}
