using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;
using FdrHarness.Lake.Catalog;

namespace FdrHarness.Lake.Transfers;

/// <summary>An RSE's live state: usage against quota and watermark, and which operations an outage took away.</summary>
public sealed class RseState(RseSpec spec, byte id)
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
    public bool Read = spec.Availability.Read, Write = spec.Availability.Write, Delete = spec.Availability.Delete;
    public bool Fits(long bytes) => Used + Reserved + bytes <= Quota;
}

/// <summary>One FTS link (source → destination): its queue, its active transfers, its properties.</summary>
public sealed class Link
{
    public double Bandwidth;
    public int MaxActive;
    public double FailureProbability;
    public double BandwidthFactor = 1;
    public double? DegradedFailure;
    public int Active;
    public readonly Queue<int> Waiting = new();
}

/// <summary>
/// FTS: per-link queues, at most max_active transfers per link, the link's bandwidth shared by the transfers active
/// when one starts, a duration from the file size, and a failure drawn per attempt from the link's probability
/// (a hash of the seed and the request, so the verdict never depends on the order things happen in).
/// </summary>
public sealed class Fts
{
    private const double OverheadSeconds = 2;
    private readonly LakeState _lake;
    private readonly Link[] _links;
    private readonly int _n;
    private readonly PriorityQueue<int, (long At, int Request)> _running = new();
    private readonly ulong _failKey;

    internal Fts(LakeState lake, IReadOnlyList<RseSpec> rses, LinkSettings settings)
    {
        _lake = lake;
        _n = rses.Count;
        _links = new Link[_n * _n];
        _failKey = StableHash.Of((ulong)lake.Seed, "fts-failures");
        var d = settings.Defaults;
        for (var i = 0; i < _links.Length; i++)
            _links[i] = new Link
            {
                Bandwidth = d.Bandwidth?.BytesPerSecond ?? 1e9,
                MaxActive = d.MaxActive ?? 100,
                FailureProbability = d.FailureProbability ?? 0.01,
            };
        foreach (var o in settings.Overrides)
        {
            var src = o.Source.Evaluate(rses);
            var dst = o.Destination.Evaluate(rses);
            for (var s = 0; s < _n; s++)
            for (var t = 0; t < _n; t++)
            {
                if (!src.Contains(rses[s].Name) || !dst.Contains(rses[t].Name)) continue;
                var l = _links[s * _n + t];
                if (o.Bandwidth is { } b) l.Bandwidth = b.BytesPerSecond;
                if (o.MaxActive is { } m) l.MaxActive = m;
                if (o.FailureProbability is { } p) l.FailureProbability = p;
            }
        }
    }

    public Link LinkOf(int src, int dst) => _links[src * _n + dst];

    /// <summary>Transfers FTS holds: queued on a link or running.</summary>
    public long Active { get; private set; }

    public void Submit(int request)
    {
        var r = _lake.Requests;
        var l = LinkOf(r.Source[request], _lake.Locks.Rse[r.Lock[request]]);
        if (l.Active < l.MaxActive) Start(request, l, _lake.Now);
        else l.Waiting.Enqueue(request);
        Active++;
    }

    private void Start(int request, Link l, long at)
    {
        var r = _lake.Requests;
        var lockId = r.Lock[request];
        var file = _lake.Locks.File[lockId];
        var src = _lake.Rses[r.Source[request]];
        var dst = _lake.Rses[_lake.Locks.Rse[lockId]];
        l.Active++;
        r.StartedAt[request] = at;
        var share = l.Bandwidth * l.BandwidthFactor / l.Active;
        var seconds = OverheadSeconds + _lake.Files.Bytes[file] / Math.Max(1, share);
        var p = l.DegradedFailure ?? l.FailureProbability;
        if (!src.Read || !dst.Write) p = 1;
        var u = (StableHash.Combine(_failKey, (ulong)request) >> 11) * (1.0 / (1UL << 53));
        r.FtsFailed[request] = u < p;
        // A failed attempt gives up part way through.
        if (r.FtsFailed[request]) seconds = OverheadSeconds + (seconds - OverheadSeconds) * u / Math.Max(p, 1e-9);
        _running.Enqueue(request, (at + (long)Math.Ceiling(seconds * 1000), request));
    }

    /// <summary>Ends every transfer due by now; each freed slot starts the link's next transfer at that instant.</summary>
    public void Advance(long now)
    {
        while (_running.TryPeek(out var request, out var due) && due.At <= now)
        {
            _running.Dequeue();
            var r = _lake.Requests;
            r.TransferredAt[request] = due.At;
            var l = LinkOf(r.Source[request], _lake.Locks.Rse[r.Lock[request]]);
            l.Active--;
            Active--;
            _lake.Poller.Enqueue(request);
            if (l.Waiting.Count > 0 && l.Active < l.MaxActive) Start(l.Waiting.Dequeue(), l, due.At);
        }
    }

    /// <summary>Starts waiting transfers on links whose limit or bandwidth changed.</summary>
    public void Kick()
    {
        foreach (var l in _links)
            while (l.Waiting.Count > 0 && l.Active < l.MaxActive) Start(l.Waiting.Dequeue(), l, _lake.Now);
    }
}
