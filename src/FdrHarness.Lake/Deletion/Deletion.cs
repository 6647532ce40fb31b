using System.Globalization;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Daemons;

namespace FdrHarness.Lake.Deletion;

/// <summary>
/// reaper: deletes replicas that have a tombstone and no locks, RSE by RSE as the RSE allows deletion; greedy by
/// default, else only while the RSE has less free space than its watermark. It holds its deletion batch in memory.
/// </summary>
public sealed class Reaper(LakeState lake, DaemonSpec spec) : QueueDaemon<int>(lake, spec)
{
    protected override bool Ready(int replica)
    {
        var r = Lake.Replicas;
        if (r.State[replica] == ReplicaState.Deleted || r.Locks[replica] > 0 || r.Tombstone[replica] == long.MaxValue) return true; // dropped
        var rse = Lake.Rses[r.Rse[replica]];
        if (!rse.Delete || r.Tombstone[replica] > Lake.Now) return false;
        return Model.Greedy || rse.Quota - rse.Used < rse.Spec.Watermark.Bytes;
    }

    protected override void Apply(int replica)
    {
        var r = Lake.Replicas;
        if (r.State[replica] != ReplicaState.Available || r.Locks[replica] > 0 || r.Tombstone[replica] > Lake.Now) return;
        var file = r.File[replica];
        var bytes = Lake.Files.Bytes[file];
        var rse = Lake.Rses[r.Rse[replica]];
        // Availability at the moment of deletion: a batch taken before an outage waits for its end.
        if (!rse.Delete)
        {
            Queue.Enqueue(replica);
            return;
        }
        r.State[replica] = ReplicaState.Deleted;
        rse.Used -= bytes;
        Lake.Counters.Deletions++;
        Lake.Counters.BytesDeleted += bytes;
        Lake.CountersChanged(file);
        var e = Lake.ExperimentOfFile(file);
        var name = Lake.FileName(file);
        Lake.Emit(new HermesEvent
        {
            EventType = EventTypes.DeletionDone,
            CreatedAt = Lake.UtcNow,
            Scope = e.Scope,
            Name = name,
            Rse = rse.Name,
            Bytes = bytes,
            Protocol = rse.Scheme,
            Duration = Model.DeletionTime.TotalSeconds,
            Account = e.Account,
        });
        if (!Lake.HasLiveReplica(file)) Lake.Files.State[file] = FileState.Deleted;
    }
}

/// <summary>
/// undertaker: erases DIDs whose lifetime ran out, in passes of up to bulk (10,000) DIDs: removes their rules,
/// gives their files' replicas tombstones (the reaper deletes them) and emits ERASE. A pass holds the DIDs and the
/// files attached to them: an item is a DID or one of its files.
/// </summary>
public sealed class Undertaker(LakeState lake, DaemonSpec spec) : QueueDaemon<int>(lake, spec)
{
    // Datasets as their id, files (noise) as -(id + 1).
    private readonly PriorityQueue<int, (long At, int Did)> _expiries = new();

    public void Expire(int encodedDid, long at) => _expiries.Enqueue(encodedDid, (at, encodedDid));

    public static int EncodeFile(int file) => -(file + 1);

    protected override void Refill()
    {
        while (_expiries.TryPeek(out var did, out var p) && p.At <= Lake.Now)
        {
            _expiries.Dequeue();
            Queue.Enqueue(did);
        }
    }

    protected override long UnitsOf(int did) => did >= 0 ? 1 + Lake.FileCountOf(DidKind.Dataset, did) : 1;

    protected override void Apply(int did)
    {
        if (did >= 0) Lake.EraseDataset(did);
        else Lake.EraseFile(-did - 1);
    }
}
