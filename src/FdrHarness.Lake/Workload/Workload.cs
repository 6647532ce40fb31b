using System.Globalization;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Deletion;

namespace FdrHarness.Lake.Workload;

/// <summary>
/// The harness's side: it turns the scenario's phases into API calls on rucio-server at the planned instants.
/// - inject: files of the phase's experiments interleaved in proportion (each experiment progresses evenly), at the
///   pace of the load simulations (<see cref="LoadSchedule"/>), continued at the last rate until every file is written.
/// - replicate: a rule on each DID (dataset, container or file) of the phase's experiments as soon as the DID is
///   complete and the phase has started; fraction selects DIDs by a seeded hash. Container level on an experiment
///   without containers falls back to datasets.
/// - qos_transition: a new rule on the DIDs of the old phase's rules; the old rule is removed when the new one is OK.
/// - delete: a lifetime on rules (the judge-cleaner removes them) or on datasets (the undertaker erases them).
/// - noise: every period, per ordered RSE pair, a file uploaded at the source with a DID lifetime and a rule to the destination.
/// - replicate, qos_transition and delete phases with a load send their calls at its pace (oldest first); calls
///   still waiting when the load ends are sent then.
/// Phases with after: start when the named inject phase has written its last file (other phases end when they start).
/// </summary>
public sealed class WorkloadDriver
{
    private readonly LakeState _lake;
    private readonly Phase[] _phases;
    private readonly long[] _start;
    private readonly bool[] _started;
    private readonly int[][] _experimentsOf;
    private readonly ulong _fractionKey;

    internal WorkloadDriver(LakeState lake)
    {
        _lake = lake;
        _phases = [.. lake.Scenario.Workload];
        _start = new long[_phases.Length];
        _started = new bool[_phases.Length];
        _experimentsOf = new int[_phases.Length][];
        _fractionKey = StableHash.Of((ulong)lake.Seed, "fraction");
        var names = lake.Scenario.Experiments.Select(e => e.Name).ToList();
        for (var p = 0; p < _phases.Length; p++)
        {
            var ph = _phases[p];
            _experimentsOf[p] = ph.Experiments.Count == 0
                ? Enumerable.Range(0, names.Count).ToArray()
                : ph.Experiments.Select(n => names.IndexOf(n)).Where(i => i >= 0).ToArray();
            _start[p] = ph.Start is { } s ? (long)s.TotalMilliseconds : ph.After is null ? 0 : -1;
        }
        // "after X": X's start unless X is an inject phase, which ends with its last file.
        for (var p = 0; p < _phases.Length; p++)
            if (_start[p] < 0 && IndexOf(_phases[p].After!) is var a && a >= 0 && _phases[a] is not InjectPhase)
                _start[p] = Math.Max(0, _start[a]);
    }

    public IReadOnlyList<Phase> Phases => _phases;

    private int IndexOf(string name) => Array.FindIndex(_phases, x => x.Name == name);

    internal void Schedule()
    {
        for (var p = 0; p < _phases.Length; p++)
        {
            if (_start[p] < 0) continue;
            var phase = p;
            _lake.Queue.Schedule(_start[p], () => StartPhase(phase));
        }
        // The harness logs in once an hour per account (the auth server's load).
        var accounts = _lake.Experiments.Length;
        for (long t = 0; t < (long)_lake.Scenario.Run.Duration.TotalMilliseconds; t += 3_600_000)
            _lake.Queue.Schedule(t, () => _lake.Auth.Add(accounts));
    }

    private void StartPhase(int p)
    {
        if (_started[p]) return;
        _started[p] = true;
        if (_phases[p] is not InjectPhase and not NoisePhase && LoadOf(_phases[p]) is { Count: > 0 } load) StartPacing(p, load);
        switch (_phases[p])
        {
            case InjectPhase inject: StartInject(p, inject); break;
            case ReplicatePhase: CatchUpReplicate(p); break;
            case QosTransitionPhase q: StartTransition(p, q); break;
            case DeletePhase d: StartDelete(p, d); break;
            case NoisePhase n: StartNoise(p, n); break;
        }
    }

    private void PhaseEnded(int p)
    {
        for (var q = 0; q < _phases.Length; q++)
            if (!_started[q] && _phases[q].After == _phases[p].Name) StartPhase(q);
    }

    // --- pace of rule and lifetime calls ---

    private static IReadOnlyList<LoadSimulation>? LoadOf(Phase phase) => phase switch
    {
        ReplicatePhase r => r.Load,
        QosTransitionPhase q => q.Load,
        DeletePhase d => d.Load,
        _ => null,
    };

    private readonly Dictionary<int, Queue<ApiCall>> _paced = [];

    /// <summary>A phase with a load sends its calls at that pace (oldest first); without one, at once.</summary>
    private void Paced(int p, ApiCall call)
    {
        if (_paced.TryGetValue(p, out var queue)) queue.Enqueue(call);
        else _lake.Server.Call(call);
    }

    /// <summary>Calls waiting when a tick comes are sent, up to its count; whatever is left when the load ends goes then.</summary>
    private void StartPacing(int p, IReadOnlyList<LoadSimulation> load)
    {
        var queue = _paced[p] = new Queue<ApiCall>();
        var t0 = _lake.Now;
        long last = t0;
        foreach (var tick in LoadSchedule.Ticks(load, _lake.Scenario.Run.Scale, _lake.Seed + p))
        {
            var n = tick.Operations;
            last = t0 + (long)tick.At.TotalMilliseconds;
            _lake.Queue.Schedule(last, () =>
            {
                for (var k = 0; k < n && queue.Count > 0; k++) _lake.Server.Call(queue.Dequeue());
            });
        }
        _lake.Queue.Schedule(last + 1, () =>
        {
            _paced.Remove(p);
            while (queue.Count > 0) _lake.Server.Call(queue.Dequeue());
        });
    }

    // --- inject ---

    private void StartInject(int p, InjectPhase phase)
    {
        var exps = _experimentsOf[p];
        var next = new long[exps.Length];
        long total = 0;
        foreach (var e in exps) total += _lake.Experiments[e].Files;
        var t0 = _lake.Now;
        var end = (long)_lake.Scenario.Run.Duration.TotalMilliseconds;
        if (total == 0)
        {
            PhaseEnded(p);
            return;
        }
        _injectRemaining[p] = total;
        foreach (var tick in LoadSchedule.Ticks(phase.Load, _lake.Scenario.Run.Scale, _lake.Seed + p, total))
        {
            var at = t0 + (long)tick.At.TotalMilliseconds;
            if (at >= end) break;
            var n = tick.Operations;
            _lake.Queue.Schedule(at, () =>
            {
                for (var k = 0; k < n; k++)
                {
                    // The experiment furthest behind its share goes next.
                    var best = -1;
                    var bestProgress = double.MaxValue;
                    for (var i = 0; i < exps.Length; i++)
                    {
                        var count = _lake.Experiments[exps[i]].Files;
                        if (next[i] >= count) continue;
                        var progress = (next[i] + 0.5) / count;
                        if (progress < bestProgress)
                        {
                            bestProgress = progress;
                            best = i;
                        }
                    }
                    if (best < 0) return;
                    var file = _lake.Experiments[exps[best]].FileOffset + (int)next[best]++;
                    _lake.Server.Call(new ApiCall(ApiCallKind.RegisterFile, file, p));
                }
            });
        }
    }

    private readonly Dictionary<int, long> _injectRemaining = [];

    /// <summary>rucio-server registered a file (POST /replicas): its replica exists on the experiment's RSE.</summary>
    internal void RegisterFile(int file, int phase)
    {
        var files = _lake.Files;
        var e = _lake.ExperimentOfFile(file);
        var g = e.Generator!;
        var index = file - e.FileOffset;
        var sf = g.GetFile(index);
        files.Bytes[file] = sf.Bytes;
        files.Adler[file] = sf.Adler32;
        var dataset = e.DatasetOffset + index / e.FilesPerDataset;
        var ds = _lake.Datasets;
        if (ds.FilesRegistered[dataset] == 0) CreateDataset(dataset);
        ds.FilesRegistered[dataset]++;

        var rse = WriteRse(e, dataset, sf.Bytes);
        if (rse < 0)
        {
            files.State[file] = FileState.Refused;
            _lake.Counters.FilesRefused++;
            _lake.Counters.QuotaRefusals++;
        }
        else
        {
            files.State[file] = FileState.Present;
            var replica = _lake.Replicas.Add(files, file, (byte)rse, ReplicaState.Available, primary: true);
            _lake.ReplicaArrived(replica);
            _lake.Counters.FilesInjected++;
        }
        if (ds.FilesRegistered[dataset] == _lake.Datasets.FileRange(dataset, _lake.Experiments).Count) DatasetComplete(dataset);
        if (_injectRemaining.TryGetValue(phase, out var left))
        {
            _injectRemaining[phase] = --left;
            if (left == 0) PhaseEnded(phase);
        }
    }

    /// <summary>The dataset's RSE from the experiment's write expression (seeded), else the next one with room.</summary>
    private int WriteRse(ExperimentInfo e, int dataset, long bytes)
    {
        var c = e.WriteRses;
        if (c.Length == 0) return -1;
        var start = (int)(_lake.Pick(LakeState.Key("write"), dataset) % (ulong)c.Length);
        for (var k = 0; k < c.Length; k++)
        {
            var rse = c[(start + k) % c.Length];
            if (_lake.Rses[rse].Fits(bytes) && _lake.Rses[rse].Write) return rse;
        }
        return -1;
    }

    private void CreateDataset(int dataset)
    {
        var e = _lake.Experiments[_lake.Datasets.Experiment[dataset]];
        _lake.Transmogrifier.Add(1);
        _lake.Emit(new HermesEvent { EventType = "CREATE_DTS", CreatedAt = _lake.UtcNow, Scope = e.Scope, Name = _lake.DatasetName(dataset), Account = e.Account });
        if (e.DatasetsPerContainer > 0 && (dataset - e.DatasetOffset) % e.DatasetsPerContainer == 0)
        {
            var container = e.ContainerOffset + (dataset - e.DatasetOffset) / e.DatasetsPerContainer;
            _lake.Transmogrifier.Add(1);
            _lake.Emit(new HermesEvent { EventType = "CREATE_CNT", CreatedAt = _lake.UtcNow, Scope = e.Scope, Name = _lake.ContainerName(container), Account = e.Account });
        }
    }

    private void DatasetComplete(int dataset)
    {
        _lake.Datasets.Complete[dataset] = true;
        var e = _lake.Experiments[_lake.Datasets.Experiment[dataset]];
        var containerComplete = -1;
        if (e.DatasetsPerContainer > 0)
        {
            var container = e.ContainerOffset + (dataset - e.DatasetOffset) / e.DatasetsPerContainer;
            if (++_lake.Containers.DatasetsComplete[container] == _lake.Containers.DatasetRange(container, _lake.Experiments).Count)
                containerComplete = container;
        }
        for (var p = 0; p < _phases.Length; p++)
        {
            if (!_started[p] || _phases[p] is not ReplicatePhase r || !_experimentsOf[p].Contains(e.Index)) continue;
            var level = EffectiveLevel(r, e);
            if (level == RuleLevel.Dataset) RuleOn(p, r, DidKind.Dataset, dataset);
            else if (level == RuleLevel.Container && containerComplete >= 0) RuleOn(p, r, DidKind.Container, containerComplete);
            else if (level == RuleLevel.File)
            {
                var (first, count) = _lake.Datasets.FileRange(dataset, _lake.Experiments);
                for (var f = first; f < first + count; f++) RuleOn(p, r, DidKind.File, f);
            }
        }
    }

    private static RuleLevel EffectiveLevel(ReplicatePhase r, ExperimentInfo e) =>
        r.Level == RuleLevel.Container && e.DatasetsPerContainer == 0 ? RuleLevel.Dataset : r.Level;

    // --- replicate ---

    private void CatchUpReplicate(int p)
    {
        var r = (ReplicatePhase)_phases[p];
        foreach (var ei in _experimentsOf[p])
        {
            var e = _lake.Experiments[ei];
            var level = EffectiveLevel(r, e);
            if (level == RuleLevel.Container)
            {
                for (var c = e.ContainerOffset; c < e.ContainerOffset + e.Containers; c++)
                    if (_lake.Containers.DatasetsComplete[c] == _lake.Containers.DatasetRange(c, _lake.Experiments).Count)
                        RuleOn(p, r, DidKind.Container, c);
                continue;
            }
            for (var d = e.DatasetOffset; d < e.DatasetOffset + e.Datasets; d++)
            {
                if (!_lake.Datasets.Complete[d]) continue;
                if (level == RuleLevel.Dataset) RuleOn(p, r, DidKind.Dataset, d);
                else
                {
                    var (first, count) = _lake.Datasets.FileRange(d, _lake.Experiments);
                    for (var f = first; f < first + count; f++) RuleOn(p, r, DidKind.File, f);
                }
            }
        }
    }

    private bool Selected(int p, double fraction, long did) =>
        fraction >= 1 || (StableHash.Combine(StableHash.Combine(_fractionKey, (ulong)p), (ulong)did) >> 11) * (1.0 / (1UL << 53)) < fraction;

    private void RuleOn(int p, ReplicatePhase r, DidKind kind, int did)
    {
        if (!Selected(p, r.Fraction, ((long)kind << 32) | (uint)did)) return;
        _pendingRules.Add(new PendingRule(p, r.Rule, kind, did, null));
        Paced(p, new ApiCall(ApiCallKind.AddRule, _pendingRules.Count - 1, 0));
    }

    private readonly List<PendingRule> _pendingRules = [];

    private sealed record PendingRule(int Phase, RuleSpec Spec, DidKind Kind, int Did, Rule? Replaces);

    internal void AddRule(int pending)
    {
        var pr = _pendingRules[pending];
        if (pr.Kind == DidKind.Dataset && _lake.Datasets.Erased[pr.Did]) return;
        _lake.CreateRule(pr.Phase, pr.Spec, pr.Kind, pr.Did, pr.Replaces);
    }

    // --- qos_transition ---

    private void StartTransition(int p, QosTransitionPhase q)
    {
        var from = IndexOf(q.From);
        foreach (var old in _lake.Rules.ToArray())
        {
            if (old.Phase != from || old.State == RuleState.Removed || !Selected(p, q.Fraction, old.Id)) continue;
            _pendingRules.Add(new PendingRule(p, q.Rule, old.Kind, old.Did, q.RemoveOld ? old : null));
            Paced(p, new ApiCall(ApiCallKind.AddRule, _pendingRules.Count - 1, 0));
        }
    }

    // --- delete ---

    private void StartDelete(int p, DeletePhase d)
    {
        var phases = d.RulesOf.Select(IndexOf).Where(i => i >= 0).ToHashSet();
        if (d.RulesOf.Count > 0 || d.DidLifetime is null)
        {
            var lifetime = (long)(d.RuleLifetime ?? TimeSpan.Zero).TotalMilliseconds;
            foreach (var rule in _lake.Rules.ToArray())
            {
                if (rule.State == RuleState.Removed) continue;
                var mine = d.RulesOf.Count > 0 ? phases.Contains(rule.Phase) : _experimentsOf[p].Contains(ExperimentOf(rule));
                if (!mine || !Selected(p, d.Fraction, rule.Id)) continue;
                Paced(p, new ApiCall(ApiCallKind.SetRuleLifetime, rule.Id, (int)(lifetime / 1000)));
            }
        }
        if (d.DidLifetime is { } didLifetime)
        {
            foreach (var ei in _experimentsOf[p])
            {
                var e = _lake.Experiments[ei];
                for (var ds = e.DatasetOffset; ds < e.DatasetOffset + e.Datasets; ds++)
                    if (_lake.Datasets.FilesRegistered[ds] > 0 && Selected(p, d.Fraction, ds))
                        Paced(p, new ApiCall(ApiCallKind.SetDidLifetime, ds, (int)didLifetime.TotalSeconds));
            }
        }
    }

    private int ExperimentOf(Rule rule) => rule.Kind switch
    {
        DidKind.Dataset => _lake.Datasets.Experiment[rule.Did],
        DidKind.Container => _lake.Containers.Experiment[rule.Did],
        _ => _lake.Files.Experiment[rule.Did],
    };

    internal void SetRuleLifetime(int rule, int seconds) => _lake.ExpireRuleAt(_lake.Rules[rule], _lake.Now + seconds * 1000L);

    internal void SetDidLifetime(int dataset, int seconds) => _lake.Undertaker.Expire(dataset, _lake.Now + seconds * 1000L);

    // --- noise ---

    private void StartNoise(int p, NoisePhase n)
    {
        var plan = _lake.Noise;
        var until = Math.Min((long)_lake.Scenario.Run.Duration.TotalMilliseconds,
            n.During is { } d ? _lake.Now + (long)d.TotalMilliseconds : long.MaxValue);
        var rounds = plan.RoundsOf(p);
        for (var round = 0; round < rounds.Count; round++)
        {
            var (offset, firstFile, pairs) = rounds[round];
            var at = _lake.Now + offset;
            if (at >= until) break;
            _lake.Queue.Schedule(at, () =>
            {
                for (var k = 0; k < pairs.Length; k++)
                    _lake.Server.Call(new ApiCall(ApiCallKind.NoiseUpload, firstFile + k, p));
            });
        }
    }

    internal void NoiseUpload(int file, int p)
    {
        var n = (NoisePhase)_phases[p];
        var plan = _lake.Noise;
        var (src, dst) = plan.PairOf(file);
        var files = _lake.Files;
        files.Bytes[file] = n.FileSize.Bytes;
        files.Adler[file] = (uint)_lake.Pick(LakeState.Key("noise-adler"), file);
        if (!_lake.Rses[src].Fits(n.FileSize.Bytes) || !_lake.Rses[src].Write)
        {
            files.State[file] = FileState.Refused;
            _lake.Counters.FilesRefused++;
            _lake.Counters.QuotaRefusals++;
            return;
        }
        files.State[file] = FileState.Present;
        var replica = _lake.Replicas.Add(files, file, src, ReplicaState.Available, primary: true);
        _lake.ReplicaArrived(replica);
        _lake.Counters.FilesInjected++;
        _lake.Transmogrifier.Add(1);
        var lifetime = (long)n.Lifetime.TotalMilliseconds;
        _lake.Undertaker.Expire(Undertaker.EncodeFile(file), _lake.Now + lifetime);
        var spec = new RuleSpec
        {
            Copies = 1,
            RseExpression = RseExpression.Parse(_lake.Rses[dst].Name),
            Activity = n.Activity,
            Grouping = RuleGrouping.None,
            Lifetime = n.Lifetime,
        };
        _pendingRules.Add(new PendingRule(p, spec, DidKind.File, file, null));
        _lake.Server.Call(new ApiCall(ApiCallKind.AddRule, _pendingRules.Count - 1, 0));
    }
}

/// <summary>The noise files: per noise phase, rounds of one file per ordered RSE pair, with global ids after the experiments' files.</summary>
public sealed class NoisePlan
{
    private readonly List<(int Phase, long At, int FirstFile, (byte Src, byte Dst)[] Pairs, int Round)> _rounds = [];
    private readonly Dictionary<int, List<(long, int, (byte, byte)[])>> _byPhase = [];

    public string Scope { get; }
    public int Files { get; }
    private readonly int _firstFile;
    private readonly string[] _rseNames;

    internal NoisePlan(LakeState lake, Scenario scenario, int firstFile)
    {
        _firstFile = firstFile;
        _rseNames = lake.Rses.Select(r => r.Name).ToArray();
        Scope = scenario.Workload.OfType<NoisePhase>().FirstOrDefault()?.Scope ?? "noise";
        var end = (long)scenario.Run.Duration.TotalMilliseconds;
        var next = firstFile;
        for (var p = 0; p < scenario.Workload.Count; p++)
        {
            if (scenario.Workload[p] is not NoisePhase n) continue;
            var names = n.Rses is { } x ? x.Evaluate(scenario.Rses) : scenario.Rses.Select(r => r.Name).ToHashSet();
            var ids = lake.Rses.Where(r => names.Contains(r.Name)).Select(r => r.Id).ToArray();
            var pairs = (from s in ids from d in ids where s != d select (s, d)).ToArray();
            var start = n.Start is { } st ? (long)st.TotalMilliseconds : 0; // noise after another phase starts with it at 0 here
            var until = Math.Min(end, n.During is { } d2 ? start + (long)d2.TotalMilliseconds : long.MaxValue);
            var every = Math.Max(1000, (long)n.Every.TotalMilliseconds);
            var list = new List<(long, int, (byte, byte)[])>();
            var round = 0;
            for (var t = start; t < until && pairs.Length > 0; t += every)
            {
                _rounds.Add((p, t, next, pairs, round++));
                list.Add((t - start, next, pairs));
                next += pairs.Length;
            }
            _byPhase[p] = list;
        }
        Files = next - firstFile;
    }

    /// <summary>Rounds of a phase: offset from the phase start made absolute by the caller, first file id, pairs.</summary>
    internal List<(long At, int FirstFile, (byte, byte)[] Pairs)> RoundsOf(int phase) => _byPhase[phase];

    private (int Phase, long At, int FirstFile, (byte Src, byte Dst)[] Pairs, int Round) RoundOf(int file)
    {
        var i = _rounds.FindLastIndex(r => r.FirstFile <= file);
        return _rounds[i];
    }

    public (byte Src, byte Dst) PairOf(int file)
    {
        var r = RoundOf(file);
        return r.Pairs[file - r.FirstFile];
    }

    /// <summary>Like ESCAPE's cron: the pair and the round in the name.</summary>
    public string FileName(int index)
    {
        var file = _firstFile + index;
        var r = RoundOf(file);
        return string.Create(CultureInfo.InvariantCulture, $"fdr-noise.{_rseNames[r.Pairs[file - r.FirstFile].Src]}.{_rseNames[r.Pairs[file - r.FirstFile].Dst]}.r{r.Round:D3}");
    }
}

public enum ApiCallKind : byte { RegisterFile, AddRule, SetRuleLifetime, SetDidLifetime, NoiseUpload }

/// <summary>One call of the harness on rucio-server.</summary>
public readonly record struct ApiCall(ApiCallKind Kind, int A, int B);
