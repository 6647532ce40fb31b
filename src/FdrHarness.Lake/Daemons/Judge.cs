using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;

namespace FdrHarness.Lake.Daemons;

/// <summary>judge-injector: creates the locks of rules submitted with asynchronous=true by handing them to the evaluator. An item is a file of the rule's DID (its memory scales with the DID, #3461).</summary>
public sealed class JudgeInjector(DaemonSpec spec, LakeContext context, Dids dids, Rules rules) : QueueDaemon(spec, context, rules.ToInject)
{
    protected override long UnitsOf(int rule) => dids.FileCountOf(rules[rule].Kind, rules[rule].Did);

    protected override void Apply(int rule) => rules.Inject(rule);
}

/// <summary>
/// judge-evaluator: turns a rule into locks, replicas and transfer requests, and re-evaluates every DID that files
/// were attached to (Rucio's updated_dids). It holds every lock of the DID it evaluates (files × copies) while it
/// works: large datasets make big pods. A bulk is one DID: its cost_per_bulk is the evaluation's fixed work (the
/// DID, its rules and those of its parents, the RSE selector), its cost_per_item the work per lock.
/// </summary>
public sealed class JudgeEvaluator(DaemonSpec spec, LakeContext context, Dids dids, Rules rules) : QueueDaemon(spec, context, rules.ToEvaluate)
{
    // Rules as their id, attachments as -(dataset + 1).
    protected override long UnitsOf(int item) =>
        item < 0 ? 1 : dids.FileCountOf(rules[item].Kind, rules[item].Did) * rules[item].Copies;

    // An attachment finds no rule to extend: the lake's rules come once their DID is complete. The pass is still made.
    protected override void Apply(int item)
    {
        if (item >= 0) rules.Evaluate(rules[item]);
    }
}

/// <summary>judge-repairer: gives the stuck locks of a rule new requests once the rule has been STUCK for stuck_delay.</summary>
public sealed class JudgeRepairer(DaemonSpec spec, LakeContext context, Rules rules) : QueueDaemon(spec, context, rules.Stuck)
{
    protected override bool Ready(int rule) => rules.ReadyToRepair(rule, Model.StuckDelay);

    // Repairing a rule reads all its locks, not only the stuck ones.
    protected override long UnitsOf(int rule) => Math.Max(1, rules[rule].LockCount);

    protected override void Apply(int rule) => rules.Repair(rules[rule]);
}

/// <summary>judge-cleaner: removes rules whose lifetime ran out (expires_at ≤ now). An item is a lock of the rule.</summary>
public sealed class JudgeCleaner(DaemonSpec spec, LakeContext context, Rules rules) : QueueDaemon(spec, context, new Queue<int>())
{
    protected override void Refill()
    {
        while (rules.Expiries.TryPeek(out var at, out var rule) && at <= Context.Now)
        {
            rules.Expiries.RemoveFirst();
            Queue.Enqueue(rule);
        }
    }

    protected override long UnitsOf(int rule) => Math.Max(1, rules[rule].LockCount);

    protected override void Apply(int rule) => rules.RemoveIfExpired(rule);
}
