using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Chaos;
using FdrHarness.Lake.Daemons;

namespace FdrHarness.Lake.Workload;

/// <summary>
/// The harness's side of the embedded lake: the plan's operations, at their instants, as API calls on rucio-server
/// (they take effect when a server pod has processed them) and chaos firings on the cluster, RSEs and links. The
/// plan is pulled one instant at a time, so a million files are never queued at once.
/// </summary>
internal sealed class PlanDriver(LakeParts lake, RunPlan plan, ChaosEngine chaos)
{
    private readonly LakeContext _context = lake.Context;
    private readonly Dids _dids = lake.Dids;
    private readonly Rses _rses = lake.Rses;
    private readonly Replicas _replicas = lake.Replicas;
    private readonly Rules _rules = lake.Rules;
    private readonly RucioServer _server = lake.Server;

    private readonly Rule?[] _planned = new Rule?[plan.RuleCount];
    private readonly Dictionary<string, RseExpression> _toRse = new(StringComparer.Ordinal);
    private IEnumerator<PlannedOperation>? _operations;
    private bool _more;
    private Action? _pump;
    // injections.parquet: the files registered, per observation interval, dataset and RSE.
    private readonly InjectionTally _injected = new(TimeSpan.FromMilliseconds(Math.Max(1000, plan.Scenario.Run.ObservationInterval.TotalMilliseconds)), lake.Context.Sink);

    public void Schedule()
    {
        // The lake names files and writes their checksums only in their events (Dids.FileName, Dids.Adler): the plan
        // need not make them for every file.
        _operations = plan.Operations(FileDetail.LeanTransient).GetEnumerator();
        _more = _operations.MoveNext();
        if (_more) _context.Queue.Schedule(Ms(_operations.Current.At), _pump ??= Pump);
        // The harness logs in once an hour per account (the auth server's load).
        var accounts = _dids.Experiments.Length;
        for (long t = 0; t < (long)plan.Duration.TotalMilliseconds; t += 3_600_000)
            _context.Queue.Schedule(t, () => lake.Logins.Add(accounts));
    }

    // Registrations are summed per (dataset, RSE) within the current interval and handed to the tally when the interval
    // ends (its sums are additive and its rows sorted per interval, so the file is the same): an integer key per file
    // instead of the tally's key of three strings (consecutive files alternate over their experiment's RSEs).
    private readonly long _intervalTicks = TimeSpan.FromMilliseconds(Math.Max(1000, plan.Scenario.Run.ObservationInterval.TotalMilliseconds)).Ticks;
    private long _runStart = long.MinValue;
    private DateTime _runTime;
    private readonly Dictionary<long, int> _runSlot = [];
    private readonly List<RunSum> _runSums = [];

    // A class, not a tuple: List over a struct is compiled at run time (ReadyToRun holds no instantiation of it).
    private sealed class RunSum(string scope, int dataset, int rse)
    {
        public readonly string Scope = scope;
        public readonly int Dataset = dataset, Rse = rse;
        public long Files, Bytes;
    }

    /// <summary>Writes the last interval's injections (the run's end, or its interruption).</summary>
    public void Finish()
    {
        FlushRegistered();
        _injected.Flush();
    }

    private void Registered(string scope, int dataset, int rse, long bytes)
    {
        var time = _context.UtcNow;
        var start = time.Ticks - time.Ticks % _intervalTicks;
        if (start != _runStart)
        {
            FlushRegistered();
            (_runStart, _runTime) = (start, time);
        }
        var key = (long)dataset << 8 | (uint)rse;
        if (_runSlot.TryGetValue(key, out var slot))
        {
            var s = _runSums[slot];
            s.Files++;
            s.Bytes += bytes;
        }
        else
        {
            _runSlot[key] = _runSums.Count;
            _runSums.Add(new RunSum(scope, dataset, rse) { Files = 1, Bytes = bytes });
        }
    }

    private void FlushRegistered()
    {
        foreach (var s in _runSums)
            _injected.Add(_runTime, s.Scope, _dids.DatasetName(s.Dataset), _rses[s.Rse].Name, s.Files, s.Bytes);
        _runSums.Clear();
        _runSlot.Clear();
    }

    private static long Ms(TimeSpan t) => (long)t.TotalMilliseconds;

    /// <summary>Carries out every operation of this instant, then waits for the next one.</summary>
    private void Pump()
    {
        var now = _context.Now;
        while (_more && Ms(_operations!.Current.At) <= now)
        {
            Execute(_operations.Current);
            _more = _operations.MoveNext();
        }
        if (_more) _context.Queue.Schedule(Ms(_operations!.Current.At), _pump ??= Pump);
        else _operations!.Dispose();
    }

    private void Execute(PlannedOperation operation)
    {
        switch (operation)
        {
            case InjectFiles inject:
                // The batch is read only until the plan moves on: each call carries its file.
                for (var i = 0; i < inject.Files.Count; i++) _server.Call(new ApiCall(ApiCallKind.RegisterFile, inject, i, inject.Files[i]));
                break;
            case NoiseRound noise:
                for (var i = 0; i < noise.Files.Count; i++) _server.Call(new ApiCall(ApiCallKind.NoiseUpload, noise, i));
                break;
            case AddRule:
                _server.Call(new ApiCall(ApiCallKind.AddRule, operation, 0));
                break;
            case SetRuleLifetime:
                _server.Call(new ApiCall(ApiCallKind.SetRuleLifetime, operation, 0));
                break;
            case SetDidLifetime:
                _server.Call(new ApiCall(ApiCallKind.SetDidLifetime, operation, 0));
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
            case ApiCallKind.RegisterFile: RegisterFile(call.File); break;
            case ApiCallKind.NoiseUpload: NoiseUpload(call); break;
            case ApiCallKind.NoiseRule: NoiseRule((NoiseRound)call.Operation, call.Item); break;
            case ApiCallKind.AddRule: CreateRule((AddRule)call.Operation); break;
            case ApiCallKind.SetRuleLifetime: ExpireRule((SetRuleLifetime)call.Operation); break;
            case ApiCallKind.SetDidLifetime:
                var lifetime = (SetDidLifetime)call.Operation;
                _dids.ExpireAt(DatasetId(lifetime.Did), _context.Now + Ms(lifetime.Lifetime));
                break;
        }
    }

    private int DatasetId(PlannedDid did) => _dids.Experiments[did.Experiment].DatasetOffset + (int)did.Index;

    private int DidId(PlannedDid did, out DidKind kind)
    {
        var e = _dids.Experiments[did.Experiment];
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
        var files = _dids.Files;
        var e = _dids.Experiments[planned.Experiment];
        var file = e.FileOffset + (int)planned.File.Index;
        files.Bytes[file] = planned.File.Bytes; // its checksum is made when an event needs it (Dids.Adler)
        var dataset = e.DatasetOffset + (int)planned.Dataset;
        var ds = _dids.Datasets;
        if (ds.FilesRegistered[dataset] == 0) _dids.CreateDataset(dataset);
        ds.FilesRegistered[dataset]++;

        var rse = WriteRse(e, planned.WriteRseStart, planned.File.Bytes);
        if (rse < 0)
        {
            files.State[file] = FileState.Refused;
            _context.Counters.FilesRefused++;
            if (_dids.InPart(file)) _context.Part.FilesRefused++;
            _context.Counters.QuotaRefusals++;
            return;
        }
        files.State[file] = FileState.Present;
        var replica = _replicas.Add(file, (byte)rse, ReplicaState.Available, primary: true);
        _replicas.Arrived(replica);
        // The upload attaches the file to its dataset: Rucio queues the dataset for the judge-evaluator (updated_dids).
        _rules.Attached(_dids.DatasetOfFile(file));
        _context.Counters.FilesInjected++;
        if (_dids.InPart(file)) _context.Part.FilesInjected++;
        Registered(e.Scope, dataset, rse, planned.File.Bytes);
    }

    private int WriteRse(ExperimentInfo e, int start, long bytes)
    {
        var c = e.WriteRses;
        for (var k = 0; k < c.Length; k++)
        {
            var rse = c[(start + k) % c.Length];
            if (_rses[rse].Fits(bytes) && _rses[rse].Write) return rse;
        }
        return -1;
    }

    // --- rules ---

    /// <summary>POST /rules/ — not on an erased dataset, and a qos_transition's rule only while the rule it replaces exists.</summary>
    private void CreateRule(AddRule add)
    {
        var did = DidId(add.Did, out var kind);
        if (kind == DidKind.Dataset && _dids.Datasets.Erased[did]) return;
        Rule? replaces = null;
        if (add.Replaces is { } r && (replaces = _planned[r]) is null or { State: RuleState.Removed }) return;
        _planned[add.Rule] = _rules.Create(add.Phase, add.Spec, kind, did, replaces);
    }

    private void ExpireRule(SetRuleLifetime set)
    {
        if (_planned[set.Rule] is not { } rule) return;
        _rules.ExpireAt(rule, _context.Now + (set.Lifetime is { } l ? Ms(l) : 0));
    }

    // --- noise ---

    /// <summary>The noise file written at its source with a DID lifetime; its rule is the next call.</summary>
    private void NoiseUpload(ApiCall call)
    {
        var noise = ((NoiseRound)call.Operation).Files[call.Item];
        var src = _rses.Id(noise.Source);
        var file = _dids.NoiseFileOffset + (int)noise.Index;
        var files = _dids.Files;
        files.Bytes[file] = noise.Bytes;
        files.Adler[file] = noise.Adler32;
        files.AdlerKnown[file] = true;
        if (!_rses[src].Fits(noise.Bytes) || !_rses[src].Write)
        {
            files.State[file] = FileState.Refused;
            _context.Counters.FilesRefused++;
            if (_dids.InPart(file)) _context.Part.FilesRefused++;
            _context.Counters.QuotaRefusals++;
            return;
        }
        files.State[file] = FileState.Present;
        var replica = _replicas.Add(file, src, ReplicaState.Available, primary: true);
        _replicas.Arrived(replica);
        _context.Counters.FilesInjected++;
        if (_dids.InPart(file)) _context.Part.FilesInjected++;
        FlushRegistered(); // keeps the tally's calls in time order
        _injected.Add(_context.UtcNow, noise.Scope, noise.Name, _rses[src].Name, 1, noise.Bytes);
        _dids.NewDids.Add(1);
        _dids.ExpireAt(Dids.EncodeFile(file), _context.Now + Ms(plan.Noise.PhaseOf(noise.Index).Lifetime));
        _server.Call(call with { Kind = ApiCallKind.NoiseRule });
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
        _rules.Create(round.Phase, rule, DidKind.File, _dids.NoiseFileOffset + (int)noise.Index, null);
    }
}

public enum ApiCallKind : byte { RegisterFile, AddRule, SetRuleLifetime, SetDidLifetime, NoiseUpload, NoiseRule }

/// <summary>One call of the harness on rucio-server: a planned operation, and which of its files for a batch (the file itself for a registration).</summary>
public readonly record struct ApiCall(ApiCallKind Kind, PlannedOperation Operation, int Item, PlannedFile File = default);
