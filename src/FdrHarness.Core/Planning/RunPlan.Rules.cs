using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Planning;

// Rules and lifetimes: which DIDs each phase touches (fraction by one seeded rule) and when. Each phase kind drafts its
// own rules and lifetimes (PhaseKind.Rules and Lifetimes, in Phases/); the order they are drafted and numbered in stays
// here, shared, because the kinds depend on each other: a qos_transition drafts from the rules of the phase it follows
// (itself a replicate or another transition), and a delete sets lifetimes on the rules every other phase made,
// numbered once all are drafted.
public sealed partial class RunPlan
{
    /// <summary>A rule before the plan numbers its rules.</summary>
    internal sealed record RuleDraft(int Phase, PlannedDid Did, RuleSpec Spec, RuleDraft? Replaces)
    {
        public TimeSpan At;
        public int Number = -1;
    }

    /// <summary>
    /// Whether a phase's fraction takes this DID: one seeded draw per (phase, DID), so a DID's fate does not depend on
    /// the order DIDs are met in, nor on the target.
    /// </summary>
    public bool Selected(int phase, PlannedDid did, double fraction)
    {
        if (fraction >= 1) return true;
        if (fraction <= 0) return false;
        var key = StableHash.Of(Streams.Key("fraction", Phases[phase].Name), Experiments[did.Experiment].Scope);
        return PlanStreams.Unit(key, ((ulong)did.Kind << 56) | (ulong)did.Index) < fraction;
    }

    private List<PlannedOperation> PlanRules(out int rules, out int ruleLifetimes, out int didLifetimes)
    {
        var drafts = new List<RuleDraft>();
        // A phase that never starts adds no rules; the others each once the phases they depend on are planned.
        var byPhase = Phases.Where(p => p.Start is null).ToDictionary(p => p.Index, _ => new List<RuleDraft>());
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var p in Phases)
            {
                if (byPhase.ContainsKey(p.Index) || PhaseKind.For(p.Spec).Rules(this, p, byPhase) is not { } planned) continue;
                drafts.AddRange(byPhase[p.Index] = planned);
                changed = true;
            }
        }

        // Rules within the run, numbered in time order.
        var kept = drafts.Where(d => d.At < Duration).OrderBy(d => d.At).ThenBy(d => d.Phase).ToList();
        for (var i = 0; i < kept.Count; i++) kept[i].Number = i;
        var operations = new List<PlannedOperation>(kept.Count);
        foreach (var d in kept)
            operations.Add(new AddRule(d.At, d.Phase, d.Number, d.Did, d.Spec, d.Replaces is { Number: >= 0 } old ? old.Number : null));

        ruleLifetimes = didLifetimes = 0;
        foreach (var p in Phases)
        {
            if (p.Start is null) continue;
            var lifetimes = PhaseKind.For(p.Spec).Lifetimes(this, p, kept);
            ruleLifetimes += lifetimes.Count(o => o is SetRuleLifetime);
            didLifetimes += lifetimes.Count(o => o is SetDidLifetime);
            operations.AddRange(lifetimes);
        }
        rules = kept.Count;
        _ruleDids = [.. kept.Select(d => d.Did)];
        // Stable: at one instant, rules before lifetimes, each in planning order.
        return [.. operations.Where(o => o.At < Duration).Select((o, i) => (o, i)).OrderBy(x => x.o.At).ThenBy(x => x.i).Select(x => x.o)];
    }

    private static TimeSpan Later(TimeSpan start, long readyMs) => readyMs < 0 ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(Math.Max(Ms(start), readyMs));

    private List<RuleDraft> Pace(PlannedPhase p, IReadOnlyList<LoadSimulation> load, List<(TimeSpan Ready, RuleDraft Draft)> ready)
    {
        var sorted = ready.Select((x, i) => (x, i)).OrderBy(y => y.x.Ready).ThenBy(y => y.i).Select(y => y.x).ToList();
        var at = PaceInstants(p, load, sorted.Select(x => x.Ready).ToList());
        for (var i = 0; i < sorted.Count; i++) sorted[i].Draft.At = at[i];
        return [.. sorted.Select(x => x.Draft)];
    }

    /// <summary>
    /// When calls that become ready at <paramref name="ready"/> (ascending) are sent: at once without a load; with one,
    /// each tick of the load sends up to its count of the calls waiting (oldest first), and whatever still waits when
    /// the load ends goes then (or when it becomes ready).
    /// </summary>
    private TimeSpan[] PaceInstants(PlannedPhase p, IReadOnlyList<LoadSimulation> load, List<TimeSpan> ready)
    {
        var at = new TimeSpan[ready.Count];
        var start = p.Start!.Value;
        if (load.Count == 0)
        {
            for (var i = 0; i < ready.Count; i++) at[i] = ready[i];
            return at;
        }
        var next = 0;
        var last = start;
        foreach (var tick in LoadSchedule.Ticks(load, Scale, Streams.Key("load", p.Name)))
        {
            var t = start + tick.At;
            if (t >= Duration) break;
            last = t;
            for (var n = tick.Operations; n > 0 && next < ready.Count && ready[next] <= t; n--) at[next++] = t;
        }
        var after = last + TimeSpan.FromMilliseconds(1);
        for (; next < ready.Count; next++) at[next] = ready[next] > after ? ready[next] : after;
        return at;
    }
}
