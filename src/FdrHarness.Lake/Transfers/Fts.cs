using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;
using FdrHarness.Lake.Catalog;

namespace FdrHarness.Lake.Transfers;

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
        // A slot freed before this request was submitted is taken at its submission, never earlier.
        at = Math.Max(at, r.SubmittedAt[request]);
        r.StartedAt[request] = at;
        var share = l.Bandwidth * l.BandwidthFactor / l.Active;
        var seconds = OverheadSeconds + _lake.Files.Bytes[file] / Math.Max(1, share);
        // Storage that is down when FTS opens the transfer fails it at once; otherwise the link's probability decides.
        var unavailable = Down(src.Id, dst.Id, at);
        var p = unavailable != TransferFailure.None ? 1 : l.DegradedFailure ?? l.FailureProbability;
        var u = (StableHash.Combine(_failKey, (ulong)request) >> 11) * (1.0 / (1UL << 53));
        r.Failure[request] = unavailable != TransferFailure.None ? unavailable : u < p ? TransferFailure.Link : TransferFailure.None;
        // A failed attempt gives up part way through; one refused by unavailable storage after the overhead only.
        if (unavailable != TransferFailure.None) seconds = OverheadSeconds;
        else if (r.Failure[request] != TransferFailure.None) seconds = OverheadSeconds + (seconds - OverheadSeconds) * u / Math.Max(p, 1e-9);
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
            var lockId = r.Lock[request];
            // Storage that went down while the transfer ran fails it when it ends (the write or the read is cut).
            if (r.Failure[request] == TransferFailure.None && Down(r.Source[request], _lake.Locks.Rse[lockId], due.At) is var cut && cut != TransferFailure.None)
                r.Failure[request] = cut;
            var l = LinkOf(r.Source[request], _lake.Locks.Rse[lockId]);
            l.Active--;
            Active--;
            _lake.Poller.Enqueue(request);
            if (l.Waiting.Count > 0 && l.Active < l.MaxActive) Start(l.Waiting.Dequeue(), l, due.At);
        }
    }

    /// <summary>Whether the destination (write) or the source (read) was unavailable at <paramref name="at"/>.</summary>
    private TransferFailure Down(byte src, byte dst, long at) =>
        !_lake.Rses[dst].WritableAt(at) ? TransferFailure.DestinationUnavailable
        : !_lake.Rses[src].ReadableAt(at) ? TransferFailure.SourceUnavailable
        : TransferFailure.None;

    /// <summary>Starts waiting transfers on links whose limit or bandwidth changed.</summary>
    public void Kick()
    {
        foreach (var l in _links)
            while (l.Waiting.Count > 0 && l.Active < l.MaxActive) Start(l.Waiting.Dequeue(), l, _lake.Now);
    }
}
