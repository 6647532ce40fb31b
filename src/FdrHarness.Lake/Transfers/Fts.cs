using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Daemons;
using FdrHarness.Lake.Simulation;

namespace FdrHarness.Lake.Transfers;

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
    private readonly LakeContext _context;
    private readonly Dids _dids;
    private readonly Rses _rses;
    private readonly Requests _requests;
    private readonly Link[] _links;
    private readonly int _n;
    /// <summary>Running transfers by when they end (then by request id).</summary>
    private readonly TimedHeap<int> _running = new();
    private readonly ulong _failKey;
    private readonly ITransferOutcomes? _outcomes;

    internal Fts(LakeContext context, Dids dids, Rses lakeRses, Requests requests, IReadOnlyList<RseSpec> rses, LinkSettings settings)
    {
        _context = context;
        _dids = dids;
        _rses = lakeRses;
        _requests = requests;
        _n = rses.Count;
        _links = new Link[_n * _n];
        _failKey = StableHash.Of((ulong)context.Seed, "fts-failures");
        _outcomes = context.Meter?.Outcomes;
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
        var r = _requests.Table;
        var l = LinkOf(r.Source[request], _requests.Locks.Rse[r.Lock[request]]);
        if (l.Active < l.MaxActive) Start(request, l, _context.Now);
        else l.Waiting.Enqueue(request);
        Active++;
    }

    private void Start(int request, Link l, long at)
    {
        var r = _requests.Table;
        var lockId = r.Lock[request];
        var file = _requests.Locks.File[lockId];
        var src = _rses[r.Source[request]];
        var dst = _rses[_requests.Locks.Rse[lockId]];
        l.Active++;
        // A slot freed before this request was submitted is taken at its submission, never earlier.
        at = Math.Max(at, r.SubmittedAt[request]);
        r.StartedAt[request] = at;
        var share = l.Bandwidth * l.BandwidthFactor / l.Active;
        var seconds = OverheadSeconds + _dids.Files.Bytes[file] / Math.Max(1, share);
        // Storage that is down when FTS opens the transfer fails it at once; otherwise the link's probability decides.
        var unavailable = Down(src.Id, dst.Id, at);
        var p = unavailable != TransferFailure.None ? 1 : l.DegradedFailure ?? l.FailureProbability;
        var u = (StableHash.Combine(_failKey, (ulong)request) >> 11) * (1.0 / (1UL << 53));
        r.Failure[request] = unavailable != TransferFailure.None ? unavailable : u < p ? TransferFailure.Link : TransferFailure.None;
        // A failed attempt gives up part way through; one refused by unavailable storage after the overhead only.
        if (unavailable != TransferFailure.None) seconds = OverheadSeconds;
        else if (r.Failure[request] != TransferFailure.None) seconds = OverheadSeconds + (seconds - OverheadSeconds) * u / Math.Max(p, 1e-9);
        var ms = (long)Math.Ceiling(seconds * 1000);
        if (_outcomes is not null) Follow(request, file, dst, unavailable, ref ms);
        _running.Enqueue(at + ms, request, request);
    }

    /// <summary>A calibration's replay: the run's verdict and duration for this attempt (storage down now still refuses it).</summary>
    private void Follow(int request, int file, RseState dst, TransferFailure unavailable, ref long ms)
    {
        if (!_outcomes!.Next(_dids.ExperimentOfFile(file).Scope, _dids.FileName(file), dst.Name, out var linkFailed, out var observed)
            || unavailable != TransferFailure.None) return;
        _requests.Table.Failure[request] = linkFailed ? TransferFailure.Link : TransferFailure.None;
        if (observed >= 0) ms = observed;
    }

    /// <summary>Ends every transfer due by now; each freed slot starts the link's next transfer at that instant.</summary>
    public void Advance(long now)
    {
        while (_running.TryPeek(out var dueAt, out var request) && dueAt <= now)
        {
            _running.RemoveFirst();
            var r = _requests.Table;
            r.TransferredAt[request] = dueAt;
            var lockId = r.Lock[request];
            // Storage that went down while the transfer ran fails it when it ends (the write or the read is cut).
            if (r.Failure[request] == TransferFailure.None && Down(r.Source[request], _requests.Locks.Rse[lockId], dueAt) is var cut && cut != TransferFailure.None)
                r.Failure[request] = cut;
            var l = LinkOf(r.Source[request], _requests.Locks.Rse[lockId]);
            l.Active--;
            Active--;
            _requests.Ended.Enqueue(request);
            if (l.Waiting.Count > 0 && l.Active < l.MaxActive) Start(l.Waiting.Dequeue(), l, dueAt);
        }
    }

    /// <summary>Whether the destination (write) or the source (read) was unavailable at <paramref name="at"/>.</summary>
    private TransferFailure Down(byte src, byte dst, long at) =>
        !_rses[dst].WritableAt(at) ? TransferFailure.DestinationUnavailable
        : !_rses[src].ReadableAt(at) ? TransferFailure.SourceUnavailable
        : TransferFailure.None;

    /// <summary>Starts waiting transfers on links whose limit or bandwidth changed.</summary>
    public void Kick()
    {
        foreach (var l in _links)
            while (l.Waiting.Count > 0 && l.Active < l.MaxActive) Start(l.Waiting.Dequeue(), l, _context.Now);
    }
}
