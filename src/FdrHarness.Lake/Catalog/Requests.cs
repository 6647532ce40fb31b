using FdrHarness.Core.Observations;
using FdrHarness.Lake.Simulation;

namespace FdrHarness.Lake.Catalog;

/// <summary>
/// Transfer requests, as Rucio's core/request.py and core/transfer.py: one per attempt (a retry is a new request whose
/// previous-request-id is the failed one), their source, their states from QUEUED to DONE or FAILED, and the
/// transfer-* events with the payload of core/request.py. The conveyor daemons work off the queues kept here.
/// </summary>
public sealed class Requests
{
    /// <summary>The FTS server requests are submitted to, as Rucio records it (external_host).</summary>
    public const string FtsHost = "https://fts3.example:8446";

    private static readonly ulong PickSource = LakeContext.Key("source");

    private readonly LakeContext _context;
    private readonly Dids _dids;
    private readonly Rses _rses;
    private readonly Replicas _replicas;
    private readonly Rules _rules;

    internal Requests(LakeContext context, Dids dids, Rses rses, Replicas replicas, Rules rules)
    {
        _context = context;
        _dids = dids;
        _rses = rses;
        _replicas = replicas;
        _rules = rules;
        Table = new RequestTable(dids.Files.Count);
    }

    public RequestTable Table { get; }
    public LockTable Locks => _rules.Locks;

    /// <summary>QUEUED requests: the conveyor-submitter's queue.</summary>
    public Queue<int> Queued { get; } = new();
    /// <summary>Transfers FTS ended, whose verdict the conveyor-poller has yet to read.</summary>
    public Queue<int> Ended { get; } = new();
    /// <summary>DONE and FAILED requests: the conveyor-finisher's queue.</summary>
    public Queue<int> Finished { get; } = new();

    /// <summary>A QUEUED request for a lock (transfer-queued).</summary>
    internal void Queue(int lockId, byte retry, int previous)
    {
        var request = Table.Add(lockId, retry, previous);
        Locks.Request[lockId] = request;
        _context.Counters.TransfersQueued++;
        Queued.Enqueue(request);
        var rule = _rules[Locks.Rule[lockId]];
        var file = Locks.File[lockId];
        var e = _dids.ExperimentOfFile(file);
        _context.Emit(new HermesEvent
        {
            EventType = EventTypes.TransferQueued,
            CreatedAt = _context.UtcNow,
            Scope = e.Scope,
            NameRef = _dids.FileNameRef(file),
            DstRse = _rses[Locks.Rse[lockId]].Name,
            RequestIdHex = _context.RequestId(request),
            PreviousRequestIdHex = previous >= 0 ? _context.RequestId(previous) : default,
            RuleId = rule.IdHex,
            Activity = rule.Activity,
            Bytes = _dids.Files.Bytes[file],
            ChecksumAdlerHex = _dids.AdlerId(file),
            RetryCount = retry,
            State = "QUEUED",
            Account = e.Account,
        });
    }

    /// <summary>Cancels a request still QUEUED (its lock was removed); false when it was already submitted or ended.</summary>
    internal bool Cancel(int request)
    {
        if (Table.State[request] != RequestState.Queued) return false;
        Table.State[request] = RequestState.Cancelled;
        _context.Counters.TransfersCancelled++;
        return true;
    }

    /// <summary>Whether the conveyor-submitter can submit the request now: its destination writable and a source readable (a cancelled one is taken, to be dropped).</summary>
    public bool ReadyToSubmit(int request)
    {
        if (Table.State[request] != RequestState.Queued) return true;
        var dst = _rses[Locks.Rse[Table.Lock[request]]];
        return dst.Write && HasSource(request);
    }

    /// <summary>Whether the request is still QUEUED (not cancelled).</summary>
    public bool IsQueued(int request) => Table.State[request] == RequestState.Queued;

    /// <summary>
    /// The conveyor-submitter's work on a QUEUED request: a source chosen and the request SUBMITTED (transfer-submitted).
    /// False when the RSEs are not available at the moment of submission (a bulk taken before an outage waits for its end).
    /// </summary>
    public bool Submit(int request)
    {
        var source = _rses[Locks.Rse[Table.Lock[request]]].Write ? ChooseSource(request) : -1;
        if (source < 0) return false;
        Table.Source[request] = (byte)source;
        Table.State[request] = RequestState.Submitted;
        Table.SubmittedAt[request] = _context.Now;
        _context.Counters.TransfersSubmitted++;
        if (_dids.InPart(Locks.File[Table.Lock[request]])) _context.Part.TransfersSubmitted++;
        _context.Emit(TransferEvent(EventTypes.TransferSubmitted, request));
        return true;
    }

    /// <summary>A source for a request: an available, readable replica allowed by the rule's source expression.</summary>
    private int ChooseSource(int request)
    {
        var lockId = Table.Lock[request];
        var file = Locks.File[lockId];
        var dst = Locks.Rse[lockId];
        var sources = _rules[Locks.Rule[lockId]].Sources;
        var replicas = _replicas.Table;
        Span<byte> found = stackalloc byte[_rses.Count];
        var n = 0;
        for (var r = _dids.Files.FirstReplica[file]; r >= 0; r = replicas.Next[r])
            if (IsSource(r, dst, sources)) found[n++] = replicas.Rse[r];
        if (n == 0) return -1;
        // An insertion sort of a few ids: Span<byte>.Sort is compiled at run time (not in the ReadyToRun image).
        for (var i = 1; i < n; i++)
        {
            var id = found[i];
            var j = i - 1;
            for (; j >= 0 && found[j] > id; j--) found[j + 1] = found[j];
            found[j + 1] = id;
        }
        return found[(int)(_context.Pick(PickSource, request) % (ulong)n)];
    }

    /// <summary>Whether <see cref="ChooseSource"/> finds one, without sorting or drawing (the submitter asks each tick a request waits).</summary>
    private bool HasSource(int request)
    {
        var lockId = Table.Lock[request];
        var dst = Locks.Rse[lockId];
        var sources = _rules[Locks.Rule[lockId]].Sources;
        for (var r = _dids.Files.FirstReplica[Locks.File[lockId]]; r >= 0; r = _replicas.Table.Next[r])
            if (IsSource(r, dst, sources)) return true;
        return false;
    }

    private bool IsSource(int replica, byte dst, byte[]? sources)
    {
        var replicas = _replicas.Table;
        var rse = replicas.Rse[replica];
        return replicas.State[replica] == ReplicaState.Available && rse != dst && _rses[rse].Read && (sources is null || Array.IndexOf(sources, rse) >= 0);
    }

    /// <summary>The conveyor-poller's work on a transfer FTS ended: DONE or FAILED (transfer-done / transfer-failed), then to the finisher.</summary>
    public void Polled(int request)
    {
        var failed = Table.Failure[request] != TransferFailure.None;
        Table.State[request] = failed ? RequestState.Failed : RequestState.Done;
        var mine = _dids.InPart(Locks.File[Table.Lock[request]]);
        if (failed)
        {
            _context.Counters.TransfersFailed++;
            if (mine) _context.Part.TransfersFailed++;
        }
        else
        {
            _context.Counters.TransfersDone++;
            if (mine) _context.Part.TransfersDone++;
            _context.Counters.BytesTransferred += _dids.Files.Bytes[Locks.File[Table.Lock[request]]];
        }
        _context.Emit(TransferEvent(failed ? EventTypes.TransferFailed : EventTypes.TransferDone, request));
        Finished.Enqueue(request);
    }

    /// <summary>A transfer-submitted / -done / -failed event with the payload fields of core/request.py.</summary>
    // Ids as numbers (HexId) and the file's name as a reference (Dids' cache holds its bytes), made per event: strings
    // kept from the submission to the verdict were most of what each gen0 collection promoted.
    private HermesEvent TransferEvent(string type, int request)
    {
        var r = Table;
        var lockId = r.Lock[request];
        var file = Locks.File[lockId];
        var e = _dids.ExperimentOfFile(file);
        var rule = _rules[Locks.Rule[lockId]];
        var dst = _rses[Locks.Rse[lockId]];
        var finished = type != EventTypes.TransferSubmitted;
        var failed = type == EventTypes.TransferFailed;
        return new HermesEvent
        {
            EventType = type,
            CreatedAt = _context.UtcNow,
            Scope = e.Scope,
            NameRef = _dids.FileNameRef(file),
            DatasetScope = e.Generator is null ? null : e.Scope,
            Dataset = _dids.DatasetNameOfFile(file),
            SrcRse = _rses[r.Source[request]].Name,
            DstRse = dst.Name,
            RequestIdHex = _context.RequestId(request),
            PreviousRequestIdHex = r.Previous[request] >= 0 ? _context.RequestId(r.Previous[request]) : default,
            RuleId = rule.IdHex,
            Activity = rule.Activity,
            Bytes = _dids.Files.Bytes[file],
            ChecksumAdlerHex = _dids.AdlerId(file),
            Protocol = dst.Scheme,
            Duration = finished ? (r.TransferredAt[request] - r.StartedAt[request]) / 1000.0 : null,
            Reason = failed ? FailureReason(request) : null,
            RetryCount = r.Retry[request],
            TransferIdHex = _context.FtsJobId(request),
            ExternalHost = FtsHost,
            Account = e.Account,
            State = type switch { EventTypes.TransferSubmitted => "SUBMITTED", EventTypes.TransferDone => "DONE", _ => "FAILED" },
            SubmittedAt = VirtualClock.ToUtc(r.SubmittedAt[request]),
            StartedAt = finished ? VirtualClock.ToUtc(r.StartedAt[request]) : null,
            TransferredAt = finished ? VirtualClock.ToUtc(r.TransferredAt[request]) : null,
        };
    }

    /// <summary>FTS's error as Rucio stores it, from why the transfer failed when it did.</summary>
    private string FailureReason(int request) => Table.Failure[request] switch
    {
        TransferFailure.DestinationUnavailable => "DESTINATION [70] Destination RSE is unavailable for writing",
        TransferFailure.SourceUnavailable => "SOURCE [70] Source RSE is unavailable for reading",
        _ => "TRANSFER [5] TRANSFER ERROR: copy failed (simulated by the link's failure probability)",
    };
}
