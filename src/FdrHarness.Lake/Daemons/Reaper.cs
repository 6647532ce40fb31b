using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;

namespace FdrHarness.Lake.Daemons;

/// <summary>
/// reaper: deletes replicas that have a tombstone and no locks, RSE by RSE as the RSE allows deletion; greedy by
/// default, else only while the RSE has less free space than its watermark. It holds its deletion batch in memory.
/// </summary>
public sealed class Reaper(DaemonSpec spec, LakeContext context, Replicas replicas) : QueueDaemon(spec, context, replicas.Tombstoned)
{
    protected override bool Ready(int replica) => replicas.ReadyToDelete(replica, Model.Greedy);

    protected override void Apply(int replica)
    {
        if (!replicas.Delete(replica, Model.DeletionTime)) Queue.Enqueue(replica);
    }
}
