using FdrHarness.Core.Observations;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;

namespace FdrHarness.Lake;

// What Rucio's core does to rules, locks, replicas and requests, called by the daemons that own each step.
public sealed partial class LakeState
{
    private static readonly ulong PickRse = Key("rule-rse"), PickSource = Key("source");

    public Rule CreateRule(int phase, RuleSpec spec, DidKind kind, int did, Rule? replaces)
    {
        var id = Rules.Count;
        var rule = new Rule
        {
            Id = id,
            IdHex = Hex32("rule", id),
            Kind = kind,
            Did = did,
            Copies = Math.Max(1, spec.Copies),
            Candidates = Select(spec.RseExpression),
            Sources = spec.SourceReplicaExpression is { } s ? Select(s) : null,
            Activity = spec.Activity,
            Notify = spec.Notify,
            Grouping = spec.Grouping,
            Phase = phase,
            Replaces = replaces,
            CreatedAt = Now,
            State = spec.Asynchronous ? RuleState.Inject : RuleState.Replicating,
        };
        if (spec.Lifetime is { } lifetime) ExpireRuleAt(rule, Now + (long)lifetime.TotalMilliseconds);
        Rules.Add(rule);
        if (!RulesOfDid.TryGetValue((kind, did), out var list)) RulesOfDid[(kind, did)] = list = [];
        list.Add(rule);
        Counters.RulesCreated++;
        if (spec.Asynchronous) Injector.Enqueue(id);
        else Evaluator.Enqueue(id);
        return rule;
    }

    public void ExpireRuleAt(Rule rule, long at)
    {
        if (rule.State == RuleState.Removed || at >= rule.ExpiresAt) return;
        rule.ExpiresAt = at;
        Cleaner.Expire(rule.Id, at);
    }

    /// <summary>
    /// The judge-evaluator's work on a new rule: place its copies (per dataset with grouping DATASET, per file with
    /// NONE, once with ALL), lock existing replicas, create COPYING replicas and QUEUED requests for the missing ones.
    /// </summary>
    public void EvaluateRule(Rule rule)
    {
        if (rule.State is RuleState.Removed) return;
        rule.State = RuleState.Replicating;
        rule.LockStart = Locks.Count;
        // Rucio's RSE selector sees only RSEs available for write at this moment; with fewer than the rule's copies
        // the rule gets no locks and is STUCK (RSEWriteBlocked, InsufficientTargetRSEs) until the judge-repairer
        // finds enough targets again.
        var writable = 0;
        foreach (var rse in rule.Candidates)
            if (Rses[rse].Write) writable++;
        rule.Unplaced = writable < rule.Copies;
        if (rule.Unplaced)
        {
            rule.LockCount = 0;
            MarkStuck(rule);
            return;
        }
        var ranges = FileRanges(rule.Kind, rule.Did).ToArray();
        if (rule.Kind == DidKind.Container && ranges.Length > 0)
        {
            rule.FirstDataset = DatasetOfFile(ranges[0].First);
            rule.PendingPerDataset = new int[ranges.Length];
        }
        Span<byte> chosen = stackalloc byte[Rses.Length];
        var groupKey = -1L;
        var copies = 0;
        for (var g = 0; g < ranges.Length; g++)
        {
            var (first, count) = ranges[g];
            for (var f = first; f < first + count; f++)
            {
                if (Files.State[f] != FileState.Present) continue;
                var key = rule.Grouping switch { RuleGrouping.All => 0, RuleGrouping.Dataset => g, _ => f };
                if (key != groupKey)
                {
                    groupKey = key;
                    copies = Place(rule, key, f, rule.Grouping == RuleGrouping.None ? Files.Bytes[f] : 0, chosen);
                }
                if (copies < rule.Copies)
                {
                    Counters.QuotaRefusals += rule.Copies - copies;
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
                    EmitRuleEvent("DATASETLOCK_OK", rule, DidKind.Dataset, rule.FirstDataset + slot, Rses[Locks.Rse[l]].Name);
        if (rule.Missing > 0) MarkStuck(rule);
        CheckRule(rule);
    }

    private int FirstLockOfDataset(Rule rule, int dataset)
    {
        for (var l = rule.LockStart; l < rule.LockStart + rule.LockCount; l++)
            if (DatasetOfFile(Locks.File[l]) == dataset) return l;
        return -1;
    }

    /// <summary>Picks up to copies RSEs available for write: those already holding the file first, then the rest in a seeded order, with room.</summary>
    private int Place(Rule rule, long group, int file, long bytes, Span<byte> chosen)
    {
        var n = 0;
        foreach (var rse in rule.Candidates)
            if (n < rule.Copies && Rses[rse].Write && Replicas.Find(Files, file, rse) >= 0) chosen[n++] = rse;
        var start = (int)(Pick(PickRse, rule.Id, group) % (ulong)Math.Max(1, rule.Candidates.Length));
        for (var k = 0; k < rule.Candidates.Length && n < rule.Copies; k++)
        {
            var rse = rule.Candidates[(start + k) % rule.Candidates.Length];
            if (!Rses[rse].Write || chosen[..n].Contains(rse)) continue;
            if (!Rses[rse].Fits(Math.Max(bytes, Files.Bytes[file]))) continue;
            chosen[n++] = rse;
        }
        return n;
    }

    private void AddLock(Rule rule, int file, byte rse, int datasetSlot)
    {
        var replica = Replicas.Find(Files, file, rse);
        if (replica < 0)
        {
            if (!Rses[rse].Fits(Files.Bytes[file]))
            {
                Counters.QuotaRefusals++;
                rule.Missing++;
                return;
            }
            replica = Replicas.Add(Files, file, rse, ReplicaState.Copying);
            Rses[rse].Reserved += Files.Bytes[file];
        }
        var lockId = Locks.Add(rule.Id, file, rse, replica);
        Replicas.Locks[replica]++;
        Replicas.Tombstone[replica] = long.MaxValue;
        if (rule.PendingPerDataset is { } pending) pending[datasetSlot]++;
        if (Replicas.State[replica] == ReplicaState.Available)
        {
            LockOk(rule, lockId, notify: false);
        }
        else if (FindActiveRequestFor(replica) is { } other && other != lockId)
        {
            // Another rule is already copying this replica: wait for it.
            if (!WaitingLocks.TryGetValue(replica, out var waiting)) WaitingLocks[replica] = waiting = [];
            waiting.Add(lockId);
        }
        else
        {
            QueueRequest(lockId, 0, -1);
        }
    }

    private int? FindActiveRequestFor(int replica)
    {
        // The first lock made for a copying replica owns its request.
        return _replicaOwner.TryGetValue(replica, out var l) ? l : null;
    }

    private readonly Dictionary<int, int> _replicaOwner = [];

    public void QueueRequest(int lockId, byte retry, int previous)
    {
        var request = Requests.Add(lockId, retry, previous, Now);
        Locks.Request[lockId] = request;
        Locks.State[lockId] = LockState.Replicating;
        _replicaOwner[Locks.Replica[lockId]] = lockId;
        Counters.TransfersQueued++;
        Submitter.Enqueue(request);
        var rule = Rules[Locks.Rule[lockId]];
        var file = Locks.File[lockId];
        var e = ExperimentOfFile(file);
        Emit(new HermesEvent
        {
            EventType = EventTypes.TransferQueued,
            CreatedAt = UtcNow,
            Scope = e.Scope,
            Name = FileName(file),
            DstRse = Rses[Locks.Rse[lockId]].Name,
            RequestId = Hex32("request", request),
            PreviousRequestId = previous >= 0 ? Hex32("request", previous) : null,
            RuleId = rule.IdHex,
            Activity = rule.Activity,
            Bytes = Files.Bytes[file],
            ChecksumAdler = AdlerHex(file),
            RetryCount = retry,
            State = "QUEUED",
            Account = e.Account,
        });
    }

    /// <summary>A source for a request: an available, readable replica allowed by the rule's source expression.</summary>
    public int ChooseSource(int request)
    {
        var lockId = Requests.Lock[request];
        var file = Locks.File[lockId];
        var dst = Locks.Rse[lockId];
        var sources = Rules[Locks.Rule[lockId]].Sources;
        Span<byte> found = stackalloc byte[Rses.Length];
        var n = 0;
        for (var r = Files.FirstReplica[file]; r >= 0; r = Replicas.Next[r])
        {
            var rse = Replicas.Rse[r];
            if (Replicas.State[r] != ReplicaState.Available || rse == dst || !Rses[rse].Read) continue;
            if (sources is not null && Array.IndexOf(sources, rse) < 0) continue;
            found[n++] = rse;
        }
        if (n == 0) return -1;
        found[..n].Sort();
        return found[(int)(Pick(PickSource, request) % (ulong)n)];
    }

    public void LockOk(Rule rule, int lockId, bool notify = true)
    {
        Locks.State[lockId] = LockState.Ok;
        rule.LocksOk++;
        if (rule.PendingPerDataset is { } pending)
        {
            var slot = DatasetOfFile(Locks.File[lockId]) - rule.FirstDataset;
            if (--pending[slot] == 0 && notify && WantsDatasetLocks(rule))
                EmitRuleEvent("DATASETLOCK_OK", rule, DidKind.Dataset, rule.FirstDataset + slot, Rses[Locks.Rse[lockId]].Name);
        }
        if (notify) CheckRule(rule);
    }

    public void LockStuck(Rule rule, int lockId)
    {
        Locks.State[lockId] = LockState.Stuck;
        rule.LocksStuck++;
        MarkStuck(rule);
    }

    private void MarkStuck(Rule rule)
    {
        if (rule.State is RuleState.Stuck or RuleState.Removed) return;
        rule.State = RuleState.Stuck;
        rule.StuckSince = Now;
        Repairer.Enqueue(rule.Id);
    }

    /// <summary>Rule OK once every lock is OK (checked lock by lock, so a rule is never OK over a lock that is not).</summary>
    public void CheckRule(Rule rule)
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
                Counters.RulesOkWithLockNotOk++;
                return;
            }
        rule.State = RuleState.Ok;
        if (rule.PendingPerDataset is null && rule.Kind == DidKind.Dataset && WantsDatasetLocks(rule) && rule.LockCount > 0)
            EmitRuleEvent("DATASETLOCK_OK", rule, DidKind.Dataset, rule.Did, Rses[Locks.Rse[rule.LockStart]].Name);
        if (rule.Notify != NotifyMode.N) EmitRuleEvent("RULE_OK", rule, rule.Kind, rule.Did, null);
        // A QoS transition: the old rule goes once the new one is OK (soft delete, the cleaner removes it).
        if (rule.Replaces is { } old) ExpireRuleAt(old, Now);
    }

    /// <summary>RULE_OK for notify Y, C and P; DATASETLOCK_OK for C and P; RULE_PROGRESS for P.</summary>
    private static bool WantsDatasetLocks(Rule rule) => rule.Notify is NotifyMode.C or NotifyMode.P;

    private void EmitRuleEvent(string type, Rule rule, DidKind kind, int did, string? rse, double? progress = null) =>
        Emit(new HermesEvent
        {
            EventType = type,
            CreatedAt = UtcNow,
            Scope = DidScope(kind, did),
            Name = DidName(kind, did),
            RuleId = rule.IdHex,
            Rse = rse,
            Progress = progress,
        });

    /// <summary>
    /// Removes a rule (judge-cleaner on expiry, undertaker with its DID): its locks go, queued requests are
    /// cancelled, and replicas left without locks get a tombstone for the reaper (uploads keep theirs unless erased).
    /// </summary>
    public void RemoveRule(Rule rule)
    {
        if (rule.State == RuleState.Removed) return;
        rule.State = RuleState.Removed;
        for (var l = rule.LockStart; l < rule.LockStart + rule.LockCount; l++)
        {
            if (Locks.State[l] == LockState.Removed) continue;
            var replica = Locks.Replica[l];
            Replicas.Locks[replica]--;
            var request = Locks.Request[l];
            var wasStuck = Locks.State[l] == LockState.Stuck;
            Locks.State[l] = LockState.Removed;
            if (request >= 0 && Requests.State[request] == RequestState.Queued)
            {
                Requests.State[request] = RequestState.Cancelled;
                Counters.TransfersCancelled++;
                HandOverOrDrop(replica, l);
            }
            else if (wasStuck)
            {
                HandOverOrDrop(replica, l);
            }
            if (Replicas.Locks[replica] == 0 && Replicas.State[replica] == ReplicaState.Available && !Replicas.Primary[replica])
                Tombstone(replica);
        }
    }

    /// <summary>A cancelled request's replica: another waiting lock takes it over, or the COPYING replica is dropped.</summary>
    private void HandOverOrDrop(int replica, int lockId)
    {
        if (WaitingLocks.TryGetValue(replica, out var waiting))
        {
            while (waiting.Count > 0)
            {
                var next = waiting[0];
                waiting.RemoveAt(0);
                if (Locks.State[next] == LockState.Removed) continue;
                QueueRequest(next, 0, -1);
                return;
            }
            WaitingLocks.Remove(replica);
        }
        if (Replicas.State[replica] == ReplicaState.Copying && Replicas.Locks[replica] == 0)
        {
            var file = Replicas.File[replica];
            Replicas.State[replica] = ReplicaState.Deleted;
            Rses[Replicas.Rse[replica]].Reserved -= Files.Bytes[file];
            _replicaOwner.Remove(replica);
            // The copy that was the file's last hope (its source reaped meanwhile): the file is gone.
            if (Files.State[file] == FileState.Present && !HasLiveReplica(file)) Files.State[file] = FileState.Deleted;
        }
        else if (_replicaOwner.TryGetValue(replica, out var owner) && owner == lockId)
        {
            _replicaOwner.Remove(replica);
        }
    }

    public void Tombstone(int replica)
    {
        if (Replicas.Tombstone[replica] != long.MaxValue || Replicas.State[replica] == ReplicaState.Deleted) return;
        Replicas.Tombstone[replica] = Now;
        Reaper.Enqueue(replica);
    }

    /// <summary>The conveyor-finisher's work on a request FTS finished.</summary>
    public void FinishRequest(int request, int maxRetries)
    {
        var lockId = Requests.Lock[request];
        var replica = Locks.Replica[lockId];
        var file = Locks.File[lockId];
        var rule = Rules[Locks.Rule[lockId]];
        var live = Locks.State[lockId] != LockState.Removed;
        if (Requests.State[request] == RequestState.Done)
        {
            if (Replicas.State[replica] == ReplicaState.Copying)
            {
                Replicas.State[replica] = ReplicaState.Available;
                Rses[Replicas.Rse[replica]].Reserved -= Files.Bytes[file];
                ReplicaArrived(replica);
            }
            _replicaOwner.Remove(replica);
            if (live) LockOk(rule, lockId);
            if (WaitingLocks.Remove(replica, out var waiting))
                foreach (var w in waiting)
                    if (Locks.State[w] != LockState.Removed) LockOk(Rules[Locks.Rule[w]], w);
            if (Replicas.Locks[replica] == 0 && !Replicas.Primary[replica]) Tombstone(replica);
            return;
        }
        // Failed: Rucio resubmits as a new request until the retry limit, then the lock is STUCK.
        if (live && Requests.Retry[request] < maxRetries)
        {
            QueueRequest(lockId, (byte)(Requests.Retry[request] + 1), request);
            return;
        }
        if (live)
        {
            LockStuck(rule, lockId);
            return;
        }
        HandOverOrDrop(replica, lockId);
    }

    /// <summary>The judge-repairer's work: stuck locks get a fresh request (retry count 0, previous-request-id set); a rule without targets is placed again.</summary>
    public void RepairRule(Rule rule)
    {
        // A rule that found no targets is evaluated again (the repairer creates its missing locks).
        if (rule.State == RuleState.Stuck && rule.Unplaced)
        {
            EvaluateRule(rule);
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
        CheckRule(rule);
    }
}
