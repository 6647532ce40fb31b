using System.Globalization;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Daemons;
using FdrHarness.Lake.Simulation;

namespace FdrHarness.Lake.Transfers;

/// <summary>conveyor-submitter: picks a source for each QUEUED request and submits it to FTS (transfer-submitted).</summary>
public sealed class ConveyorSubmitter(LakeState lake, DaemonSpec spec) : QueueDaemon<int>(lake, spec)
{
    public const string FtsHost = "https://fts3.example:8446";

    protected override bool Ready(int request)
    {
        if (Lake.Requests.State[request] != RequestState.Queued) return true; // cancelled: dropped in Apply
        var dst = Lake.Rses[Lake.Locks.Rse[Lake.Requests.Lock[request]]];
        return dst.Write && Lake.ChooseSource(request) >= 0;
    }

    protected override void Apply(int request)
    {
        var r = Lake.Requests;
        if (r.State[request] != RequestState.Queued) return;
        // Availability at the moment of submission: a bulk taken before an outage waits for its end.
        var source = Lake.Rses[Lake.Locks.Rse[r.Lock[request]]].Write ? Lake.ChooseSource(request) : -1;
        if (source < 0)
        {
            Queue.Enqueue(request);
            return;
        }
        r.Source[request] = (byte)source;
        r.State[request] = RequestState.Submitted;
        r.SubmittedAt[request] = Lake.Now;
        Lake.Counters.TransfersSubmitted++;
        Lake.Emit(Lake.TransferEvent("transfer-submitted", request));
        Lake.Fts.Submit(request);
    }
}

/// <summary>conveyor-poller: learns FTS's verdict on finished transfers and reports transfer-done / transfer-failed.</summary>
public sealed class ConveyorPoller(LakeState lake, DaemonSpec spec) : QueueDaemon<int>(lake, spec)
{
    protected override void Apply(int request)
    {
        var r = Lake.Requests;
        var failed = r.Failure[request] != TransferFailure.None;
        r.State[request] = failed ? RequestState.Failed : RequestState.Done;
        if (failed) Lake.Counters.TransfersFailed++;
        else
        {
            Lake.Counters.TransfersDone++;
            Lake.Counters.BytesTransferred += Lake.Files.Bytes[Lake.Locks.File[r.Lock[request]]];
        }
        Lake.Emit(Lake.TransferEvent(failed ? "transfer-failed" : "transfer-done", request));
        Lake.Finisher.Enqueue(request);
    }
}

/// <summary>conveyor-finisher: applies finished transfers to replicas, locks and rules; failed ones are retried as new requests.</summary>
public sealed class ConveyorFinisher(LakeState lake, DaemonSpec spec) : QueueDaemon<int>(lake, spec)
{
    protected override void Apply(int request) => Lake.FinishRequest(request, Model.MaxRetries);
}
