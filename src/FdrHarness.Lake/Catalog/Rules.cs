using System.Runtime.InteropServices;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Simulation;

namespace FdrHarness.Lake.Catalog;

/// <summary>
/// Replication rules and their replica locks, as Rucio's core/rule.py and core/lock.py: a rule's creation, its
/// evaluation into locks, replicas and transfer requests, its locks' outcomes, its repair, its expiry and removal.
/// Each step is called by the daemon that owns it, from the queues kept here (rules to inject, to evaluate, stuck,
/// expiring). Rules create requests, and a request reads its lock and rule: <see cref="Requests"/> is made here.
/// </summary>
public sealed class Rules
{
    private static readonly ulong PickRse = LakeContext.Key("rule-rse");

    private readonly LakeContext _context;
    private readonly Dids _dids;
    private readonly Rses _rses;
    private readonly Replicas _replicas;
    private readonly List<Rule> _rules = [];

    /// <summary>
    /// Rules by DID (kind, id) in creation order, for the undertaker to remove with their DID: the first and last rule id
    /// of each DID, chained through <see cref="_nextOfDid"/>. Ids, not a list of rules per DID: the ATLAS-scale day's
    /// million young lists, stored into an old dictionary, lengthened its collections' pauses (README benchmarks).
    /// </summary>
    private readonly Dictionary<long, (int First, int Last)> _rulesOfDid = [];
    /// <summary>Per rule id: the next rule of the same DID, or -1.</summary>
    private int[] _nextOfDid = [];
    /// <summary>Extra locks waiting on a replica another rule is already copying there.</summary>
    private readonly Dictionary<int, List<int>> _waitingLocks = [];

    internal Rules(LakeContext context, Dids dids, Rses rses, Replicas replicas)
    {
        _context = context;
        _dids = dids;
        _rses = rses;
        _replicas = replicas;
        Locks = new LockTable(dids.Files.Count);
        Requests = new Requests(context, dids, rses, replicas, this);
    }

    public Requests Requests { get; }
    public LockTable Locks { get; }
    public IReadOnlyList<Rule> All => _rules;
    public Rule this[int id] => _rules[id];

    /// <summary>Rules created with asynchronous=true: the judge-injector's queue.</summary>
    public Queue<int> ToInject { get; } = new();
    /// <summary>The judge-evaluator's queue: new rules as their id, DIDs files were attached to as -(dataset + 1) (updated_dids).</summary>
    public Queue<int> ToEvaluate { get; } = new();
    /// <summary>Rules that became STUCK: the judge-repairer's queue.</summary>
    public Queue<int> Stuck { get; } = new();
    /// <summary>Rules with a lifetime, by when it runs out: the judge-cleaner's.</summary>
    internal TimedHeap<int> Expiries { get; } = new();

    /// <summary>An upload attached a file to its dataset: Rucio queues the dataset for the judge-evaluator (updated_dids).</summary>
    public void Attached(int dataset) => ToEvaluate.Enqueue(-(dataset + 1));

    // A long, not a tuple, as the key: Dictionary over a tuple is compiled at run time (not in the ReadyToRun image).
    private static long DidKey(DidKind kind, int did) => (long)kind << 32 | (uint)did;

    public Rule Create(int phase, RuleSpec spec, DidKind kind, int did, Rule? replaces)
    {
        var now = _context.Now;
        var id = _rules.Count;
        var rule = new Rule
        {
            Id = id,
            IdHex = _context.Hex32("rule", id),
            Kind = kind,
            Did = did,
            Copies = Math.Max(1, spec.Copies),
            Candidates = _rses.Select(spec.RseExpression),
            Sources = spec.SourceReplicaExpression is { } s ? _rses.Select(s) : null,
            Activity = spec.Activity,
            Notify = spec.Notify,
            Grouping = spec.Grouping,
            Phase = phase,
            Replaces = replaces,
            CreatedAt = now,
            State = spec.Asynchronous ? RuleState.Inject : RuleState.Replicating,
        };
        if (spec.Lifetime is { } lifetime) ExpireAt(rule, now + (long)lifetime.TotalMilliseconds);
        _rules.Add(rule);
        if (_nextOfDid.Length <= id) Array.Resize(ref _nextOfDid, Math.Max(1024, _nextOfDid.Length * 2));
        _nextOfDid[id] = -1;
        ref var chain = ref CollectionsMarshal.GetValueRefOrAddDefault(_rulesOfDid, DidKey(kind, did), out var known);
        if (known) _nextOfDid[chain.Last] = id;
        chain = (known ? chain.First : id, id);
        _context.Counters.RulesCreated++;
        if (spec.Asynchronous) ToInject.Enqueue(id);
        else ToEvaluate.Enqueue(id);
        return rule;
    }

    public void ExpireAt(Rule rule, long at)
    {
        if (rule.State == RuleState.Removed || at >= rule.ExpiresAt) return;
        rule.ExpiresAt = at;
        Expiries.Enqueue(at, rule.Id, rule.Id);
    }

    /// <summary>The judge-injector's work: an asynchronous rule goes to the evaluator.</summary>
    public void Inject(int id)
    {
        var rule = _rules[id];
        if (rule.State != RuleState.Inject) return;
        rule.State = RuleState.Replicating;
        ToEvaluate.Enqueue(id);
    }

    /// <summary>
    /// The judge-evaluator's work on a new rule: place its copies (per dataset with grouping DATASET, per file with
    /// NONE, once with ALL), lock existing replicas, create COPYING replicas and QUEUED requests for the missing ones.
    /// </summary>
    public void Evaluate(Rule rule)
    {
        if (rule.State is RuleState.Removed) return;
        rule.State = RuleState.Replicating;
        rule.LockStart = Locks.Count;
        // Rucio's RSE selector sees only RSEs available for write at this moment; with fewer than the rule's copies
        // the rule gets no locks and is STUCK (RSEWriteBlocked, InsufficientTargetRSEs) until the judge-repairer
        // finds enough targets again.
        var writable = 0;
        foreach (var rse in rule.Candidates)
            if (_rses[rse].Write) writable++;
        rule.Unplaced = writable < rule.Copies;
        if (rule.Unplaced)
        {
            rule.LockCount = 0;
            MarkStuck(rule);
            return;
        }
        var files = _dids.Files;
        var ranges = _dids.FileRanges(rule.Kind, rule.Did);
        if (rule.Kind == DidKind.Container && ranges.Length > 0)
        {
            rule.FirstDataset = _dids.DatasetOfFile(ranges[0].First);
            rule.PendingPerDataset = new int[ranges.Length];
        }
        Span<byte> chosen = stackalloc byte[_rses.Count];
        var groupKey = -1L;
        var copies = 0;
        for (var g = 0; g < ranges.Length; g++)
        {
            var (first, count) = ranges[g];
            _dids.PrepareAdlers(first, count);
            for (var f = first; f < first + count; f++)
            {
                if (files.State[f] != FileState.Present) continue;
                var key = rule.Grouping switch { RuleGrouping.All => 0, RuleGrouping.Dataset => g, _ => f };
                if (key != groupKey)
                {
                    groupKey = key;
                    copies = Place(rule, key, f, rule.Grouping == RuleGrouping.None ? files.Bytes[f] : 0, chosen);
                }
                if (copies < rule.Copies)
                {
                    _context.Counters.QuotaRefusals += rule.Copies - copies;
                    rule.Missing += rule.Copies - copies;
                }
                for (var c = 0; c < copies; c++) AddLock(rule, f, chosen[c], g);
            }
        }
        rule.LockCount = Locks.Count - rule.LockStart;
        // Datasets of a container rule whose replicas were all there already are OK at once.
        if (rule.PendingPerDataset is { } done && WantsDatasetLocks(rule))
            for (var slot = 0; slot < done.Length; slot++)
                if (done[slot] == 0 && FirstLockOfDataset(rule, rule.FirstDataset + slot) is var l && l >= 0)
                    EmitRuleEvent("DATASETLOCK_OK", rule, DidKind.Dataset, rule.FirstDataset + slot, _rses[Locks.Rse[l]].Name);
        if (rule.Missing > 0) MarkStuck(rule);
        Check(rule);
    }

    private int FirstLockOfDataset(Rule rule, int dataset)
    {
        for (var l = rule.LockStart; l < rule.LockStart + rule.LockCount; l++)
            if (_dids.DatasetOfFile(Locks.File[l]) == dataset) return l;
        return -1;
    }

    /// <summary>Picks up to copies RSEs available for write: those already holding the file first, then the rest in a seeded order, with room.</summary>
    private int Place(Rule rule, long group, int file, long bytes, Span<byte> chosen)
    {
        var n = 0;
        foreach (var rse in rule.Candidates)
            if (n < rule.Copies && _rses[rse].Write && _replicas.Find(file, rse) >= 0) chosen[n++] = rse;
        var start = (int)(_context.Pick(PickRse, rule.Id, group) % (ulong)Math.Max(1, rule.Candidates.Length));
        for (var k = 0; k < rule.Candidates.Length && n < rule.Copies; k++)
        {
            var rse = rule.Candidates[(start + k) % rule.Candidates.Length];
            if (!_rses[rse].Write || chosen[..n].Contains(rse)) continue;
            if (!_rses[rse].Fits(Math.Max(bytes, _dids.Files.Bytes[file]))) continue;
            chosen[n++] = rse;
        }
        return n;
    }

    private void AddLock(Rule rule, int file, byte rse, int datasetSlot)
    {
        var replicas = _replicas.Table;
        var replica = _replicas.Find(file, rse);
        if (replica < 0)
        {
            if (!_rses[rse].Fits(_dids.Files.Bytes[file]))
            {
                _context.Counters.QuotaRefusals++;
                rule.Missing++;
                return;
            }
            replica = _replicas.Add(file, rse, ReplicaState.Copying);
            _rses[rse].Reserved += _dids.Files.Bytes[file];
        }
        var lockId = Locks.Add(rule.Id, file, rse, replica);
        replicas.Locks[replica]++;
        replicas.Tombstone[replica] = false;
        if (rule.PendingPerDataset is { } pending) pending[datasetSlot]++;
        if (replicas.State[replica] == ReplicaState.Available)
        {
            LockOk(rule, lockId, notify: false);
        }
        else if (replicas.Owner[replica] is var other && other >= 0 && other != lockId)
        {
            // Another rule is already copying this replica: wait for it.
            if (!_waitingLocks.TryGetValue(replica, out var waiting)) _waitingLocks[replica] = waiting = [];
            waiting.Add(lockId);
        }
        else
        {
            QueueRequest(lockId, 0, -1);
        }
    }

    /// <summary>A new request for a lock; the lock's request now copies the replica.</summary>
    private void QueueRequest(int lockId, byte retry, int previous)
    {
        Requests.Queue(lockId, retry, previous);
        Locks.State[lockId] = LockState.Replicating;
        _replicas.Table.Owner[Locks.Replica[lockId]] = lockId;
    }

    private void LockOk(Rule rule, int lockId, bool notify = true)
    {
        Locks.State[lockId] = LockState.Ok;
        rule.LocksOk++;
        if (rule.PendingPerDataset is { } pending)
        {
            var slot = _dids.DatasetOfFile(Locks.File[lockId]) - rule.FirstDataset;
            if (--pending[slot] == 0 && notify && WantsDatasetLocks(rule))
                EmitRuleEvent("DATASETLOCK_OK", rule, DidKind.Dataset, rule.FirstDataset + slot, _rses[Locks.Rse[lockId]].Name);
        }
        if (notify) Check(rule);
    }

    private void LockStuck(Rule rule, int lockId)
    {
        Locks.State[lockId] = LockState.Stuck;
        rule.LocksStuck++;
        MarkStuck(rule);
    }

    private void MarkStuck(Rule rule)
    {
        if (rule.State is RuleState.Stuck or RuleState.Removed) return;
        rule.State = RuleState.Stuck;
        rule.StuckSince = _context.Now;
        Stuck.Enqueue(rule.Id);
    }

    /// <summary>Rule OK once every lock is OK (checked lock by lock, so a rule is never OK over a lock that is not).</summary>
    private void Check(Rule rule)
    {
        if (rule.State is RuleState.Removed or RuleState.Ok or RuleState.Inject) return;
        if (rule.Notify == NotifyMode.P && rule.LockCount > 0)
        {
            var tenth = (int)(10L * rule.LocksOk / rule.LockCount);
            if (tenth > rule.ProgressReported && tenth < 10)
            {
                rule.ProgressReported = tenth;
                EmitRuleEvent("RULE_PROGRESS", rule, rule.Kind, rule.Did, null, tenth / 10.0);
            }
        }
        if (rule.Unplaced || rule.LocksOk != rule.LockCount || rule.LocksStuck > 0 || rule.Missing > 0) return;
        for (var l = rule.LockStart; l < rule.LockStart + rule.LockCount; l++)
            if (Locks.State[l] != LockState.Ok)
            {
                _context.Counters.RulesOkWithLockNotOk++;
                return;
            }
        rule.State = RuleState.Ok;
        if (rule.PendingPerDataset is null && rule.Kind == DidKind.Dataset && WantsDatasetLocks(rule) && rule.LockCount > 0)
            EmitRuleEvent("DATASETLOCK_OK", rule, DidKind.Dataset, rule.Did, _rses[Locks.Rse[rule.LockStart]].Name);
        if (rule.Notify != NotifyMode.N) EmitRuleEvent("RULE_OK", rule, rule.Kind, rule.Did, null);
        // A QoS transition: the old rule goes once the new one is OK (soft delete, the cleaner removes it).
        if (rule.Replaces is { } old) ExpireAt(old, _context.Now);
    }

    /// <summary>RULE_OK for notify Y, C and P; DATASETLOCK_OK for C and P; RULE_PROGRESS for P.</summary>
    private static bool WantsDatasetLocks(Rule rule) => rule.Notify is NotifyMode.C or NotifyMode.P;

    private void EmitRuleEvent(string type, Rule rule, DidKind kind, int did, string? rse, double? progress = null) =>
        _context.Emit(new HermesEvent
        {
            EventType = type,
            CreatedAt = _context.UtcNow,
            Scope = _dids.DidScope(kind, did),
            Name = _dids.DidName(kind, did),
            RuleId = rule.IdHex,
            Rse = rse,
            Progress = progress,
        });

    /// <summary>The judge-cleaner's work: a rule whose lifetime ran out is removed.</summary>
    public void RemoveIfExpired(int id)
    {
        var rule = _rules[id];
        if (rule.ExpiresAt <= _context.Now) Remove(rule);
    }

    /// <summary>The undertaker's work on a DID it erases: its rules go.</summary>
    public void RemoveRulesOf(DidKind kind, int did)
    {
        if (_rulesOfDid.TryGetValue(DidKey(kind, did), out var chain))
            for (var id = chain.First; id >= 0; id = _nextOfDid[id]) Remove(_rules[id]);
    }

    /// <summary>
    /// Removes a rule (judge-cleaner on expiry, undertaker with its DID): its locks go, queued requests are
    /// cancelled, and replicas left without locks get a tombstone for the reaper (uploads keep theirs unless erased).
    /// </summary>
    private void Remove(Rule rule)
    {
        if (rule.State == RuleState.Removed) return;
        rule.State = RuleState.Removed;
        var replicas = _replicas.Table;
        for (var l = rule.LockStart; l < rule.LockStart + rule.LockCount; l++)
        {
            if (Locks.State[l] == LockState.Removed) continue;
            var replica = Locks.Replica[l];
            replicas.Locks[replica]--;
            var request = Locks.Request[l];
            var wasStuck = Locks.State[l] == LockState.Stuck;
            Locks.State[l] = LockState.Removed;
            if (request >= 0 && Requests.Cancel(request))
            {
                HandOverOrDrop(replica, l);
            }
            else if (wasStuck)
            {
                HandOverOrDrop(replica, l);
            }
            if (replicas.Locks[replica] == 0 && replicas.State[replica] == ReplicaState.Available && !replicas.Primary[replica])
                _replicas.Tombstone(replica);
        }
    }

    /// <summary>A cancelled request's replica: another waiting lock takes it over, or the COPYING replica is dropped.</summary>
    private void HandOverOrDrop(int replica, int lockId)
    {
        var replicas = _replicas.Table;
        if (_waitingLocks.Count > 0 && _waitingLocks.TryGetValue(replica, out var waiting))
        {
            while (waiting.Count > 0)
            {
                var next = waiting[0];
                waiting.RemoveAt(0);
                if (Locks.State[next] == LockState.Removed) continue;
                QueueRequest(next, 0, -1);
                return;
            }
            _waitingLocks.Remove(replica);
        }
        if (replicas.State[replica] == ReplicaState.Copying && replicas.Locks[replica] == 0)
        {
            var file = replicas.File[replica];
            replicas.State[replica] = ReplicaState.Deleted;
            _rses[replicas.Rse[replica]].Reserved -= _dids.Files.Bytes[file];
            replicas.Owner[replica] = -1;
            // The copy that was the file's last hope (its source reaped meanwhile): the file is gone.
            if (_dids.Files.State[file] == FileState.Present && !_replicas.HasLiveReplica(file)) _dids.Files.State[file] = FileState.Deleted;
        }
        else if (replicas.Owner[replica] == lockId)
        {
            replicas.Owner[replica] = -1;
        }
    }

    /// <summary>The conveyor-finisher's work on a request FTS finished: replica, locks and rule; a failure is retried as a new request.</summary>
    public void TransferEnded(int request, int maxRetries)
    {
        var requests = Requests.Table;
        var replicas = _replicas.Table;
        var lockId = requests.Lock[request];
        var replica = Locks.Replica[lockId];
        var file = Locks.File[lockId];
        var rule = _rules[Locks.Rule[lockId]];
        var live = Locks.State[lockId] != LockState.Removed;
        if (requests.State[request] == RequestState.Done)
        {
            if (replicas.State[replica] == ReplicaState.Copying)
            {
                replicas.State[replica] = ReplicaState.Available;
                _rses[replicas.Rse[replica]].Reserved -= _dids.Files.Bytes[file];
                _replicas.Arrived(replica);
            }
            replicas.Owner[replica] = -1;
            if (live) LockOk(rule, lockId);
            if (_waitingLocks.Count > 0 && _waitingLocks.Remove(replica, out var waiting))
                foreach (var w in waiting)
                    if (Locks.State[w] != LockState.Removed) LockOk(_rules[Locks.Rule[w]], w);
            if (replicas.Locks[replica] == 0 && !replicas.Primary[replica]) _replicas.Tombstone(replica);
            return;
        }
        // Failed: Rucio resubmits as a new request until the retry limit, then the lock is STUCK.
        if (live && requests.Retry[request] < maxRetries)
        {
            QueueRequest(lockId, (byte)(requests.Retry[request] + 1), request);
            return;
        }
        if (live)
        {
            LockStuck(rule, lockId);
            return;
        }
        HandOverOrDrop(replica, lockId);
    }

    /// <summary>Whether the judge-repairer may take the rule now: STUCK for its stuck_delay (a rule no longer stuck is taken, to be dropped).</summary>
    public bool ReadyToRepair(int id, TimeSpan stuckDelay)
    {
        var rule = _rules[id];
        return rule.State != RuleState.Stuck || _context.Now >= rule.StuckSince + (long)stuckDelay.TotalMilliseconds;
    }

    /// <summary>The judge-repairer's work: stuck locks get a fresh request (retry count 0, previous-request-id set); a rule without targets is placed again.</summary>
    public void Repair(Rule rule)
    {
        // A rule that found no targets is evaluated again (the repairer creates its missing locks).
        if (rule.State == RuleState.Stuck && rule.Unplaced)
        {
            Evaluate(rule);
            return;
        }
        if (rule.State != RuleState.Stuck || rule.LocksStuck == 0) return;
        rule.State = RuleState.Replicating;
        for (var l = rule.LockStart; l < rule.LockStart + rule.LockCount; l++)
        {
            if (Locks.State[l] != LockState.Stuck) continue;
            rule.LocksStuck--;
            QueueRequest(l, 0, Locks.Request[l]);
        }
        Check(rule);
    }
}
