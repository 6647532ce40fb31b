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
        if (Lake.InPart(Lake.Locks.File[r.Lock[request]])) Lake.Part.TransfersSubmitted++;
        Lake.Emit(Lake.TransferEvent(EventTypes.TransferSubmitted, request));
        Lake.Fts.Submit(request);
    }
}

/// <summary>
/// conveyor-poller: asks FTS about every submitted transfer not heard of for a minute (Rucio's older_than), reports
/// transfer-done / transfer-failed for those that ended. Its work grows with the transfers FTS holds, not only with
/// those that end: the polls of transfers still running are counted, not queued one by one.
/// </summary>
public sealed class ConveyorPoller(LakeState lake, DaemonSpec spec) : QueueDaemon<int>(lake, spec)
{
    private const double PollEverySeconds = 60;
    private double _polls;
    private long _polledUntil;

    public override long Backlog => base.Backlog + (long)_polls;

    protected override void BeginTick()
    {
        base.BeginTick();
        _polls += Lake.Fts.Active * ((Lake.Now - _polledUntil) / 1000.0) / PollEverySeconds;
        _polledUntil = Lake.Now;
    }

    /// <summary>Ended transfers first; else a bulk of polls of running ones (work without a verdict).</summary>
    protected override bool Take(Worker w, int bulk)
    {
        if (base.Take(w, bulk)) return true;
        var n = Math.Min(bulk, (long)_polls);
        if (n <= 0) return false;
        _polls -= n;
        w.Units = n;
        return true;
    }

    protected override void Return(Worker w)
    {
        if (w.Items.Count == 0) _polls += w.Units;
        else base.Return(w);
    }

    protected override void Apply(int request)
    {
        var r = Lake.Requests;
        var failed = r.Failure[request] != TransferFailure.None;
        r.State[request] = failed ? RequestState.Failed : RequestState.Done;
        var mine = Lake.InPart(Lake.Locks.File[r.Lock[request]]);
        if (failed)
        {
            Lake.Counters.TransfersFailed++;
            if (mine) Lake.Part.TransfersFailed++;
        }
        else
        {
            Lake.Counters.TransfersDone++;
            if (mine) Lake.Part.TransfersDone++;
            Lake.Counters.BytesTransferred += Lake.Files.Bytes[Lake.Locks.File[r.Lock[request]]];
        }
        Lake.Emit(Lake.TransferEvent(failed ? EventTypes.TransferFailed : EventTypes.TransferDone, request));
        Lake.Finisher.Enqueue(request);
    }
}

/// <summary>conveyor-finisher: applies finished transfers to replicas, locks and rules; failed ones are retried as new requests.</summary>
public sealed class ConveyorFinisher(LakeState lake, DaemonSpec spec) : QueueDaemon<int>(lake, spec)
{
    protected override void Apply(int request) => Lake.FinishRequest(request, Model.MaxRetries);
}
