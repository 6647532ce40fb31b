using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;

namespace FdrHarness.Lake.Daemons;

/// <summary>
/// undertaker: erases DIDs whose lifetime ran out, in passes of up to bulk (10,000) DIDs: removes their rules,
/// gives their files' replicas tombstones (the reaper deletes them) and emits ERASE. A pass holds the DIDs and the
/// files attached to them: an item is a DID or one of its files.
/// </summary>
public sealed class Undertaker(DaemonSpec spec, LakeContext context, Dids dids, Replicas replicas, Rules rules) : QueueDaemon(spec, context, new Queue<int>())
{
    protected override void Refill()
    {
        while (dids.Expiries.TryPeek(out var at, out var did) && at <= Context.Now)
        {
            dids.Expiries.RemoveFirst();
            Queue.Enqueue(did);
        }
    }

    // Datasets as their id, files (noise) as -(id + 1).
    protected override long UnitsOf(int did) => did >= 0 ? 1 + dids.FileCountOf(DidKind.Dataset, did) : 1;

    protected override void Apply(int did)
    {
        if (did >= 0) EraseDataset(did);
        else EraseFile(-did - 1);
    }

    private void EraseDataset(int dataset)
    {
        if (dids.Datasets.Erased[dataset]) return;
        dids.Datasets.Erased[dataset] = true;
        rules.RemoveRulesOf(DidKind.Dataset, dataset);
        var (first, count) = dids.Datasets.FileRange(dataset, dids.Experiments);
        for (var f = first; f < first + count; f++) replicas.TombstoneFile(f);
        dids.EmitErase(DidKind.Dataset, dataset);
    }

    private void EraseFile(int file)
    {
        rules.RemoveRulesOf(DidKind.File, file);
        replicas.TombstoneFile(file);
        dids.EmitErase(DidKind.File, file);
    }
}
