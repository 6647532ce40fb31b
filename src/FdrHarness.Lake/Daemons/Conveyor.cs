using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Transfers;

namespace FdrHarness.Lake.Daemons;

/// <summary>conveyor-submitter: picks a source for each QUEUED request and submits it to FTS (transfer-submitted).</summary>
public sealed class ConveyorSubmitter(DaemonSpec spec, LakeContext context, Requests requests, Fts fts) : QueueDaemon(spec, context, requests.Queued)
{
    protected override bool Ready(int request) => requests.ReadyToSubmit(request);

    protected override void Apply(int request)
    {
        if (!requests.IsQueued(request)) return; // cancelled meanwhile
        if (requests.Submit(request)) fts.Submit(request);
        else Queue.Enqueue(request);
    }
}

/// <summary>
/// conveyor-poller: asks FTS about every submitted transfer not heard of for a minute (Rucio's older_than), reports
/// transfer-done / transfer-failed for those that ended. Its work grows with the transfers FTS holds, not only with
/// those that end: the polls of transfers still running are counted, not queued one by one.
/// </summary>
public sealed class ConveyorPoller(DaemonSpec spec, LakeContext context, Requests requests, Fts fts) : QueueDaemon(spec, context, requests.Ended)
{
    private const double PollEverySeconds = 60;
    private double _polls;
    private long _polledUntil;

    public override long Backlog => base.Backlog + (long)_polls;

    protected override void BeginTick()
    {
        base.BeginTick();
        _polls += fts.Active * ((Context.Now - _polledUntil) / 1000.0) / PollEverySeconds;
        _polledUntil = Context.Now;
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

    protected override void Apply(int request) => requests.Polled(request);
}

/// <summary>conveyor-finisher: applies finished transfers to replicas, locks and rules; failed ones are retried as new requests.</summary>
public sealed class ConveyorFinisher(DaemonSpec spec, LakeContext context, Rules rules) : QueueDaemon(spec, context, rules.Requests.Finished)
{
    protected override void Apply(int request) => rules.TransferEnded(request, Model.MaxRetries);
}
