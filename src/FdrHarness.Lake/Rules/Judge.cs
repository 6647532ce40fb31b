using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Daemons;

namespace FdrHarness.Lake.Rules;

/// <summary>judge-injector: creates the locks of rules submitted with asynchronous=true by handing them to the evaluator. An item is a file of the rule's DID (its memory scales with the DID, #3461).</summary>
public sealed class JudgeInjector(LakeState lake, DaemonSpec spec) : QueueDaemon<int>(lake, spec)
{
    protected override long UnitsOf(int rule) => Lake.FileCountOf(Lake.Rules[rule].Kind, Lake.Rules[rule].Did);

    protected override void Apply(int rule)
    {
        var r = Lake.Rules[rule];
        if (r.State != RuleState.Inject) return;
        r.State = RuleState.Replicating;
        Lake.Evaluator.Enqueue(rule);
    }
}

/// <summary>
/// judge-evaluator: turns a rule into locks, replicas and transfer requests, and re-evaluates every DID that files
/// were attached to (Rucio's updated_dids). It holds every lock of the DID it evaluates (files × copies) while it
/// works: large datasets make big pods. A bulk is one DID: its cost_per_bulk is the evaluation's fixed work (the
/// DID, its rules and those of its parents, the RSE selector), its cost_per_item the work per lock.
/// </summary>
public sealed class JudgeEvaluator(LakeState lake, DaemonSpec spec) : QueueDaemon<int>(lake, spec)
{
    // Rules as their id, attachments as -(dataset + 1).
    public void Attached(int dataset) => Enqueue(-(dataset + 1));

    protected override long UnitsOf(int item) =>
        item < 0 ? 1 : Lake.FileCountOf(Lake.Rules[item].Kind, Lake.Rules[item].Did) * Lake.Rules[item].Copies;

    // An attachment finds no rule to extend: the lake's rules come once their DID is complete. The pass is still made.
    protected override void Apply(int item)
    {
        if (item >= 0) Lake.EvaluateRule(Lake.Rules[item]);
    }
}

/// <summary>judge-repairer: gives the stuck locks of a rule new requests once the rule has been STUCK for stuck_delay.</summary>
public sealed class JudgeRepairer(LakeState lake, DaemonSpec spec) : QueueDaemon<int>(lake, spec)
{
    protected override bool Ready(int rule)
    {
        var r = Lake.Rules[rule];
        return r.State != RuleState.Stuck || Lake.Now >= r.StuckSince + (long)Model.StuckDelay.TotalMilliseconds;
    }

    // Repairing a rule reads all its locks, not only the stuck ones.
    protected override long UnitsOf(int rule) => Math.Max(1, Lake.Rules[rule].LockCount);

    protected override void Apply(int rule) => Lake.RepairRule(Lake.Rules[rule]);
}

/// <summary>judge-cleaner: removes rules whose lifetime ran out (expires_at ≤ now). An item is a lock of the rule.</summary>
public sealed class JudgeCleaner(LakeState lake, DaemonSpec spec) : QueueDaemon<int>(lake, spec)
{
    private readonly PriorityQueue<int, (long At, int Rule)> _expiries = new();

    public void Expire(int rule, long at) => _expiries.Enqueue(rule, (at, rule));

    protected override void Refill()
    {
        while (_expiries.TryPeek(out var rule, out var p) && p.At <= Lake.Now)
        {
            _expiries.Dequeue();
            Queue.Enqueue(rule);
        }
    }

    protected override long UnitsOf(int rule) => Math.Max(1, Lake.Rules[rule].LockCount);

    protected override void Apply(int rule)
    {
        var r = Lake.Rules[rule];
        if (r.ExpiresAt <= Lake.Now) Lake.RemoveRule(r);
    }
}
