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
        var within = drafts.FindAll(d => d.At < Duration);
        var kept = InOrder(within, StableOrder(within.Count, (a, b) =>
            within[a].At != within[b].At ? within[a].At.CompareTo(within[b].At) : within[a].Phase.CompareTo(within[b].Phase)));
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
        _ruleDids = new PlannedDid[kept.Count];
        for (var i = 0; i < kept.Count; i++) _ruleDids[i] = kept[i].Did;
        // Stable: at one instant, rules before lifetimes, each in planning order.
        var timed = operations.FindAll(o => o.At < Duration);
        return InOrder(timed, StableOrder(timed.Count, (a, b) => timed[a].At.CompareTo(timed[b].At)));
    }

    private static TimeSpan Later(TimeSpan start, long readyMs) => readyMs < 0 ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(Math.Max(Ms(start), readyMs));

    /// <summary>Drafts whose <see cref="RuleDraft.At"/> is when they become ready, in that order, then paced by the load.</summary>
    private List<RuleDraft> Pace(PlannedPhase p, IReadOnlyList<LoadSimulation> load, List<RuleDraft> ready)
    {
        var sorted = InOrder(ready, StableOrder(ready.Count, (a, b) => ready[a].At.CompareTo(ready[b].At)));
        var readyAt = new TimeSpan[sorted.Count];
        for (var i = 0; i < readyAt.Length; i++) readyAt[i] = sorted[i].At;
        var at = PaceInstants(p, load, readyAt);
        for (var i = 0; i < sorted.Count; i++) sorted[i].At = at[i];
        return sorted;
    }

    /// <summary>
    /// Indices 0 … count − 1 in the order of <paramref name="compare"/>, ties in index order (a bottom-up merge sort).
    /// LINQ's OrderBy over the plan's tuples and instants was compiled at run time (ReadyToRun holds no instantiation
    /// of it over them): some hundred methods at tier 0 whenever a plan was made.
    /// </summary>
    internal static int[] StableOrder(int count, Comparison<int> compare)
    {
        var order = new int[count];
        for (var i = 0; i < count; i++) order[i] = i;
        var merged = new int[count];
        for (var width = 1; width < count; width *= 2)
        {
            for (var lo = 0; lo < count; lo += 2 * width)
            {
                int mid = Math.Min(lo + width, count), hi = Math.Min(lo + 2 * width, count);
                int a = lo, b = mid, k = lo;
                while (a < mid && b < hi) merged[k++] = compare(order[b], order[a]) < 0 ? order[b++] : order[a++];
                while (a < mid) merged[k++] = order[a++];
                while (b < hi) merged[k++] = order[b++];
            }
            (order, merged) = (merged, order);
        }
        return order;
    }

    private static List<T> InOrder<T>(List<T> items, int[] order)
    {
        var sorted = new List<T>(order.Length);
        foreach (var i in order) sorted.Add(items[i]);
        return sorted;
    }

    /// <summary>
    /// When calls that become ready at <paramref name="ready"/> (ascending) are sent: at once without a load; with one,
    /// each tick of the load sends up to its count of the calls waiting (oldest first), and whatever still waits when
    /// the load ends goes then (or when it becomes ready).
    /// </summary>
    private TimeSpan[] PaceInstants(PlannedPhase p, IReadOnlyList<LoadSimulation> load, TimeSpan[] ready)
    {
        var at = new TimeSpan[ready.Length];
        var start = p.Start!.Value;
        if (load.Count == 0)
        {
            for (var i = 0; i < ready.Length; i++) at[i] = ready[i];
            return at;
        }
        var next = 0;
        var last = start;
        foreach (var tick in LoadSchedule.Ticks(load, Scale, Streams.Key("load", p.Name)))
        {
            var t = start + tick.At;
            if (t >= Duration) break;
            last = t;
            for (var n = tick.Operations; n > 0 && next < ready.Length && ready[next] <= t; n--) at[next++] = t;
        }
        var after = last + TimeSpan.FromMilliseconds(1);
        for (; next < ready.Length; next++) at[next] = ready[next] > after ? ready[next] : after;
        return at;
    }
}
