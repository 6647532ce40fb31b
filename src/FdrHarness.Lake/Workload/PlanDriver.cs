using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Chaos;
using FdrHarness.Lake.Deletion;

namespace FdrHarness.Lake.Workload;

/// <summary>
/// The harness's side of the embedded lake: the plan's operations, at their instants, as API calls on rucio-server
/// (they take effect when a server pod has processed them) and chaos firings on the cluster, RSEs and links. The
/// plan is pulled one instant at a time, so a million files are never queued at once.
/// </summary>
internal sealed class PlanDriver(LakeState lake, RunPlan plan, ChaosEngine chaos)
{
    private readonly Rule?[] _rules = new Rule?[plan.RuleCount];
    private readonly Dictionary<string, RseExpression> _toRse = new(StringComparer.Ordinal);
    private IEnumerator<PlannedOperation>? _operations;
    private bool _more;

    public void Schedule()
    {
        _operations = plan.Operations().GetEnumerator();
        _more = _operations.MoveNext();
        if (_more) lake.Queue.Schedule(Ms(_operations.Current.At), Pump);
        // The harness logs in once an hour per account (the auth server's load).
        var accounts = lake.Experiments.Length;
        for (long t = 0; t < (long)plan.Duration.TotalMilliseconds; t += 3_600_000)
            lake.Queue.Schedule(t, () => lake.Auth.Add(accounts));
    }

    private static long Ms(TimeSpan t) => (long)t.TotalMilliseconds;

    /// <summary>Carries out every operation of this instant, then waits for the next one.</summary>
    private void Pump()
    {
        var now = lake.Now;
        while (_more && Ms(_operations!.Current.At) <= now)
        {
            Execute(_operations.Current);
            _more = _operations.MoveNext();
        }
        if (_more) lake.Queue.Schedule(Ms(_operations!.Current.At), Pump);
        else _operations!.Dispose();
    }

    private void Execute(PlannedOperation operation)
    {
        switch (operation)
        {
            case InjectFiles inject:
                for (var i = 0; i < inject.Files.Count; i++) lake.Server.Call(new ApiCall(ApiCallKind.RegisterFile, inject, i));
                break;
            case NoiseRound noise:
                for (var i = 0; i < noise.Files.Count; i++) lake.Server.Call(new ApiCall(ApiCallKind.NoiseUpload, noise, i));
                break;
            case AddRule:
                lake.Server.Call(new ApiCall(ApiCallKind.AddRule, operation, 0));
                break;
            case SetRuleLifetime:
                lake.Server.Call(new ApiCall(ApiCallKind.SetRuleLifetime, operation, 0));
                break;
            case SetDidLifetime:
                lake.Server.Call(new ApiCall(ApiCallKind.SetDidLifetime, operation, 0));
                break;
            case ChaosFiring firing:
                chaos.Fire(firing);
                break;
        }
    }

    /// <summary>rucio-server has processed a call.</summary>
    internal void Apply(ApiCall call)
    {
        switch (call.Kind)
        {
            case ApiCallKind.RegisterFile: RegisterFile(((InjectFiles)call.Operation).Files[call.Item]); break;
            case ApiCallKind.NoiseUpload: NoiseUpload(call); break;
            case ApiCallKind.NoiseRule: NoiseRule((NoiseRound)call.Operation, call.Item); break;
            case ApiCallKind.AddRule: CreateRule((AddRule)call.Operation); break;
            case ApiCallKind.SetRuleLifetime: ExpireRule((SetRuleLifetime)call.Operation); break;
            case ApiCallKind.SetDidLifetime:
                var lifetime = (SetDidLifetime)call.Operation;
                lake.Undertaker.Expire(DatasetId(lifetime.Did), lake.Now + Ms(lifetime.Lifetime));
                break;
        }
    }

    private int DatasetId(PlannedDid did) => lake.Experiments[did.Experiment].DatasetOffset + (int)did.Index;

    private int DidId(PlannedDid did, out DidKind kind)
    {
        var e = lake.Experiments[did.Experiment];
        kind = did.Kind;
        return did.Kind switch
        {
            DidKind.Dataset => e.DatasetOffset + (int)did.Index,
            DidKind.Container => e.ContainerOffset + (int)did.Index,
            _ => e.FileOffset + (int)did.Index,
        };
    }

    // --- inject ---

    /// <summary>POST /replicas: the file's replica on the first RSE with room and write access, from its dataset's choice on.</summary>
    private void RegisterFile(in PlannedFile planned)
    {
        var files = lake.Files;
        var e = lake.Experiments[planned.Experiment];
        var file = e.FileOffset + (int)planned.File.Index;
        files.Bytes[file] = planned.File.Bytes;
        files.Adler[file] = planned.File.Adler32;
        var dataset = e.DatasetOffset + (int)planned.Dataset;
        var ds = lake.Datasets;
        if (ds.FilesRegistered[dataset] == 0) CreateDataset(dataset);
        ds.FilesRegistered[dataset]++;

        var rse = WriteRse(e, planned.WriteRseStart, planned.File.Bytes);
        if (rse < 0)
        {
            files.State[file] = FileState.Refused;
            lake.Counters.FilesRefused++;
            if (lake.InPart(file)) lake.Part.FilesRefused++;
            lake.Counters.QuotaRefusals++;
            return;
        }
        files.State[file] = FileState.Present;
        var replica = lake.Replicas.Add(files, file, (byte)rse, ReplicaState.Available, primary: true);
        lake.ReplicaArrived(replica);
        lake.Counters.FilesInjected++;
        if (lake.InPart(file)) lake.Part.FilesInjected++;
    }

    private int WriteRse(ExperimentInfo e, int start, long bytes)
    {
        var c = e.WriteRses;
        for (var k = 0; k < c.Length; k++)
        {
            var rse = c[(start + k) % c.Length];
            if (lake.Rses[rse].Fits(bytes) && lake.Rses[rse].Write) return rse;
        }
        return -1;
    }

    private void CreateDataset(int dataset)
    {
        var e = lake.Experiments[lake.Datasets.Experiment[dataset]];
        lake.Transmogrifier.Add(1);
        lake.Emit(new HermesEvent { EventType = "CREATE_DTS", CreatedAt = lake.UtcNow, Scope = e.Scope, Name = lake.DatasetName(dataset), Account = e.Account });
        if (e.DatasetsPerContainer > 0 && (dataset - e.DatasetOffset) % e.DatasetsPerContainer == 0)
        {
            var container = e.ContainerOffset + (dataset - e.DatasetOffset) / e.DatasetsPerContainer;
            lake.Transmogrifier.Add(1);
            lake.Emit(new HermesEvent { EventType = "CREATE_CNT", CreatedAt = lake.UtcNow, Scope = e.Scope, Name = lake.ContainerName(container), Account = e.Account });
        }
    }

    // --- rules ---

    /// <summary>POST /rules/ — not on an erased dataset, and a qos_transition's rule only while the rule it replaces exists.</summary>
    private void CreateRule(AddRule add)
    {
        var did = DidId(add.Did, out var kind);
        if (kind == DidKind.Dataset && lake.Datasets.Erased[did]) return;
        Rule? replaces = null;
        if (add.Replaces is { } r && (replaces = _rules[r]) is null or { State: RuleState.Removed }) return;
        _rules[add.Rule] = lake.CreateRule(add.Phase, add.Spec, kind, did, replaces);
    }

    private void ExpireRule(SetRuleLifetime set)
    {
        if (_rules[set.Rule] is not { } rule) return;
        lake.ExpireRuleAt(rule, lake.Now + (set.Lifetime is { } l ? Ms(l) : 0));
    }

    // --- noise ---

    /// <summary>The noise file written at its source with a DID lifetime; its rule is the next call.</summary>
    private void NoiseUpload(ApiCall call)
    {
        var noise = ((NoiseRound)call.Operation).Files[call.Item];
        var src = lake.RseId(noise.Source);
        var file = lake.NoiseFileOffset + (int)noise.Index;
        var files = lake.Files;
        files.Bytes[file] = noise.Bytes;
        files.Adler[file] = noise.Adler32;
        if (!lake.Rses[src].Fits(noise.Bytes) || !lake.Rses[src].Write)
        {
            files.State[file] = FileState.Refused;
            lake.Counters.FilesRefused++;
            if (lake.InPart(file)) lake.Part.FilesRefused++;
            lake.Counters.QuotaRefusals++;
            return;
        }
        files.State[file] = FileState.Present;
        var replica = lake.Replicas.Add(files, file, src, ReplicaState.Available, primary: true);
        lake.ReplicaArrived(replica);
        lake.Counters.FilesInjected++;
        if (lake.InPart(file)) lake.Part.FilesInjected++;
        lake.Transmogrifier.Add(1);
        lake.Undertaker.Expire(Undertaker.EncodeFile(file), lake.Now + Ms(plan.Noise.PhaseOf(noise.Index).Lifetime));
        lake.Server.Call(call with { Kind = ApiCallKind.NoiseRule });
    }

    /// <summary>The noise file's one-copy rule to its destination, with the phase's lifetime.</summary>
    private void NoiseRule(NoiseRound round, int item)
    {
        var noise = round.Files[item];
        var spec = plan.Noise.PhaseOf(noise.Index);
        if (!_toRse.TryGetValue(noise.Destination, out var expression)) _toRse[noise.Destination] = expression = RseExpression.Parse(noise.Destination);
        var rule = new RuleSpec
        {
            Copies = 1,
            RseExpression = expression,
            Activity = spec.Activity,
            Grouping = RuleGrouping.None,
            Lifetime = spec.Lifetime,
        };
        lake.CreateRule(round.Phase, rule, DidKind.File, lake.NoiseFileOffset + (int)noise.Index, null);
    }
}

public enum ApiCallKind : byte { RegisterFile, AddRule, SetRuleLifetime, SetDidLifetime, NoiseUpload, NoiseRule }

/// <summary>One call of the harness on rucio-server: a planned operation, and which of its files for a batch.</summary>
public readonly record struct ApiCall(ApiCallKind Kind, PlannedOperation Operation, int Item);
