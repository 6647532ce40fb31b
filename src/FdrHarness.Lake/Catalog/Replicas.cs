using FdrHarness.Core.Observations;

namespace FdrHarness.Lake.Catalog;

/// <summary>
/// Replicas, as Rucio's core/replica.py: the replica table, RSE usage as replicas arrive and go, tombstones (the
/// reaper's queue), the deletion itself, and the counter rows (updated_account_counter, updated_rse_counter,
/// updated_col_rep) every change writes for the abacus daemons.
/// </summary>
public sealed class Replicas(LakeContext context, Dids dids, Rses rses)
{
    // Two per file: its upload and, on the scenarios measured, most of a copy each; room not used is never touched
    // (Columns), where growing at the file count copied every column once.
    public ReplicaTable Table { get; } = new(2 * dids.Files.Count);

    /// <summary>Replicas given a tombstone, in the order they got it: the reaper's queue.</summary>
    public Queue<int> Tombstoned { get; } = new();

    public RowQueue AccountCounters { get; } = new();
    public RowQueue RseCounters { get; } = new();
    public RowQueue CollectionReplicaCounters { get; } = new();

    public int Add(int file, byte rse, ReplicaState state, bool primary = false) => Table.Add(dids.Files, file, rse, state, primary);

    /// <summary>The live replica of a file on an RSE, or -1.</summary>
    public int Find(int file, byte rse) => Table.Find(dids.Files, file, rse);

    public bool HasLiveReplica(int file)
    {
        for (var r = dids.Files.FirstReplica[file]; r >= 0; r = Table.Next[r])
            if (Table.State[r] != ReplicaState.Deleted) return true;
        return false;
    }

    /// <summary>Adds a replica's bytes to its RSE and writes the counter rows.</summary>
    public void Arrived(int replica)
    {
        var rse = rses[Table.Rse[replica]];
        var file = Table.File[replica];
        rse.Used += dids.Files.Bytes[file];
        rse.Arrived += dids.Files.Bytes[file];
        if (rse.Used > rse.MaxUsed) rse.MaxUsed = rse.Used;
        if (rse.Used > rse.Quota) context.Counters.QuotaExceededUnnoticed++;
        CountersChanged(file);
    }

    private void CountersChanged(int file)
    {
        AccountCounters.Add(1);
        RseCounters.Add(1);
        if (dids.DatasetOfFile(file) >= 0) CollectionReplicaCounters.Add(1);
    }

    public void Tombstone(int replica)
    {
        if (Table.Tombstone[replica] || Table.State[replica] == ReplicaState.Deleted) return;
        Table.Tombstone[replica] = true;
        Tombstoned.Enqueue(replica);
    }

    /// <summary>A DID's file erased: its replicas lose their upload's protection, and those without locks get a tombstone.</summary>
    public void TombstoneFile(int file)
    {
        for (var r = dids.Files.FirstReplica[file]; r >= 0; r = Table.Next[r])
        {
            Table.Primary[r] = false;
            if (Table.State[r] == ReplicaState.Available && Table.Locks[r] == 0) Tombstone(r);
        }
    }

    /// <summary>Whether the reaper may delete the replica now (false: it waits); a replica no longer to delete is ready (to be dropped).</summary>
    public bool ReadyToDelete(int replica, bool greedy)
    {
        if (Table.State[replica] == ReplicaState.Deleted || Table.Locks[replica] > 0 || !Table.Tombstone[replica]) return true; // dropped
        var rse = rses[Table.Rse[replica]];
        if (!rse.Delete) return false;
        return greedy || rse.Quota - rse.Used < rse.Spec.Watermark.Bytes;
    }

    /// <summary>
    /// The reaper's deletion of a replica, if it is still to delete: deletion-done with the storage's time; false when
    /// its RSE does not allow deletion at this moment (the reaper queues it again).
    /// </summary>
    public bool Delete(int replica, TimeSpan deletionTime)
    {
        if (Table.State[replica] != ReplicaState.Available || Table.Locks[replica] > 0 || !Table.Tombstone[replica]) return true;
        var file = Table.File[replica];
        var bytes = dids.Files.Bytes[file];
        var rse = rses[Table.Rse[replica]];
        // Availability at the moment of deletion: a batch taken before an outage waits for its end.
        if (!rse.Delete) return false;
        Table.State[replica] = ReplicaState.Deleted;
        rse.Used -= bytes;
        context.Counters.Deletions++;
        context.Counters.BytesDeleted += bytes;
        CountersChanged(file);
        var e = dids.ExperimentOfFile(file);
        context.Emit(new HermesEvent
        {
            EventType = EventTypes.DeletionDone,
            CreatedAt = context.UtcNow,
            Scope = e.Scope,
            NameRef = dids.FileNameRef(file),
            Rse = rse.Name,
            Bytes = bytes,
            Protocol = rse.Scheme,
            Duration = deletionTime.TotalSeconds,
            Account = e.Account,
        });
        if (!HasLiveReplica(file)) dids.Files.State[file] = FileState.Deleted;
        return true;
    }
}
