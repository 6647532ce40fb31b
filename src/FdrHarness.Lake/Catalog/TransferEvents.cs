using FdrHarness.Core.Observations;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Simulation;
using FdrHarness.Lake.Transfers;

namespace FdrHarness.Lake;

public sealed partial class LakeState
{
    /// <summary>A transfer-submitted / -done / -failed event with the payload fields of core/request.py.</summary>
    public HermesEvent TransferEvent(string type, int request)
    {
        var r = Requests;
        var lockId = r.Lock[request];
        var file = Locks.File[lockId];
        var e = ExperimentOfFile(file);
        var rule = Rules[Locks.Rule[lockId]];
        var dst = Rses[Locks.Rse[lockId]];
        var finished = type != EventTypes.TransferSubmitted;
        var failed = type == EventTypes.TransferFailed;
        return new HermesEvent
        {
            EventType = type,
            CreatedAt = UtcNow,
            Scope = e.Scope,
            Name = FileName(file),
            DatasetScope = e.Generator is null ? null : e.Scope,
            Dataset = DatasetNameOfFile(file),
            SrcRse = Rses[r.Source[request]].Name,
            DstRse = dst.Name,
            RequestId = Hex32("request", request),
            PreviousRequestId = r.Previous[request] >= 0 ? Hex32("request", r.Previous[request]) : null,
            RuleId = rule.IdHex,
            Activity = rule.Activity,
            Bytes = Files.Bytes[file],
            ChecksumAdler = AdlerHex(file),
            Protocol = dst.Scheme,
            Duration = finished ? (r.TransferredAt[request] - r.StartedAt[request]) / 1000.0 : null,
            Reason = failed ? FailureReason(request) : null,
            RetryCount = r.Retry[request],
            TransferId = finished || type == EventTypes.TransferSubmitted ? FtsJobId(request) : null,
            ExternalHost = ConveyorSubmitter.FtsHost,
            Account = e.Account,
            State = type switch { EventTypes.TransferSubmitted => "SUBMITTED", EventTypes.TransferDone => "DONE", _ => "FAILED" },
            SubmittedAt = VirtualClock.ToUtc(r.SubmittedAt[request]),
            StartedAt = finished ? VirtualClock.ToUtc(r.StartedAt[request]) : null,
            TransferredAt = finished ? VirtualClock.ToUtc(r.TransferredAt[request]) : null,
        };
    }

    /// <summary>FTS's error as Rucio stores it, from why the transfer failed when it did.</summary>
    private string FailureReason(int request) => Requests.Failure[request] switch
    {
        TransferFailure.DestinationUnavailable => "DESTINATION [70] Destination RSE is unavailable for writing",
        TransferFailure.SourceUnavailable => "SOURCE [70] Source RSE is unavailable for reading",
        _ => "TRANSFER [5] TRANSFER ERROR: copy failed (simulated by the link's failure probability)",
    };
}
