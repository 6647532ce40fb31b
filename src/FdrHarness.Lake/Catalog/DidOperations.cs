using FdrHarness.Core.Observations;
using FdrHarness.Lake.Catalog;

namespace FdrHarness.Lake;

public sealed partial class LakeState
{
    public bool HasLiveReplica(int file)
    {
        for (var r = Files.FirstReplica[file]; r >= 0; r = Replicas.Next[r])
            if (Replicas.State[r] != ReplicaState.Deleted) return true;
        return false;
    }

    public void EraseDataset(int dataset)
    {
        if (Datasets.Erased[dataset]) return;
        Datasets.Erased[dataset] = true;
        RemoveRulesOf(DidKind.Dataset, dataset);
        var (first, count) = Datasets.FileRange(dataset, Experiments);
        for (var f = first; f < first + count; f++) TombstoneFile(f);
        EmitErase(DidKind.Dataset, dataset, "DATASET");
    }

    public void EraseFile(int file)
    {
        RemoveRulesOf(DidKind.File, file);
        TombstoneFile(file);
        EmitErase(DidKind.File, file, "FILE");
    }

    private void RemoveRulesOf(DidKind kind, int did)
    {
        if (RulesOfDid.TryGetValue((kind, did), out var rules))
            foreach (var rule in rules) RemoveRule(rule);
    }

    private void TombstoneFile(int file)
    {
        for (var r = Files.FirstReplica[file]; r >= 0; r = Replicas.Next[r])
        {
            Replicas.Primary[r] = false;
            if (Replicas.State[r] == ReplicaState.Available && Replicas.Locks[r] == 0) Tombstone(r);
        }
    }

    private void EmitErase(DidKind kind, int did, string type) =>
        Emit(new HermesEvent
        {
            EventType = "ERASE",
            CreatedAt = UtcNow,
            Scope = DidScope(kind, did),
            Name = DidName(kind, did),
            State = type,
            Account = "root",
        });
}
