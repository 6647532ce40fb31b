using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Planning;

// Rules and lifetimes: which DIDs each phase touches (fraction by one seeded rule) and when.
public sealed partial class RunPlan
{
    /// <summary>A rule before the plan numbers its rules.</summary>
    private sealed record RuleDraft(int Phase, PlannedDid Did, RuleSpec Spec, RuleDraft? Replaces)
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
        var byPhase = new Dictionary<int, List<RuleDraft>>();
        foreach (var p in Phases)
            if (p.Spec is ReplicatePhase r && p.Start is { } start)
                drafts.AddRange(byPhase[p.Index] = Replicate(p, r, start));
        // Transitions may replace the rules of another transition: plan each once its source phase is planned.
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var p in Phases)
            {
                if (p.Spec is not QosTransitionPhase q || byPhase.ContainsKey(p.Index) || p.Start is not { } start) continue;
                var from = IndexOfPhase(q.From);
                if (from >= 0 && Phases[from].Start is null) byPhase[from] = [];
                if (from < 0 || !byPhase.TryGetValue(from, out var old)) continue;
                drafts.AddRange(byPhase[p.Index] = Transition(p, q, start, old));
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
            if (p.Spec is not DeletePhase del || p.Start is not { } start) continue;
            var lifetimes = Delete(p, del, start, kept);
            ruleLifetimes += lifetimes.Count(o => o is SetRuleLifetime);
            didLifetimes += lifetimes.Count(o => o is SetDidLifetime);
            operations.AddRange(lifetimes);
        }
        rules = kept.Count;
        _ruleDids = [.. kept.Select(d => d.Did)];
        // Stable: at one instant, rules before lifetimes, each in planning order.
        return [.. operations.Where(o => o.At < Duration).Select((o, i) => (o, i)).OrderBy(x => x.o.At).ThenBy(x => x.i).Select(x => x.o)];
    }

    /// <summary>A rule on each selected DID of the phase's experiments, once the DID is complete (its last file planned).</summary>
    private List<RuleDraft> Replicate(PlannedPhase p, ReplicatePhase r, TimeSpan start)
    {
        var ready = new List<(TimeSpan Ready, RuleDraft Draft)>();
        foreach (var ei in p.Experiments)
        {
            var e = Experiments[ei];
            var last = _datasetLastMs[ei];
            var level = r.Level == RuleLevel.Container && e.DatasetsPerContainer == 0 ? RuleLevel.Dataset : r.Level;
            void Add(long readyMs, DidKind kind, long index)
            {
                var did = new PlannedDid(kind, ei, index);
                if (readyMs >= 0 && Selected(p.Index, did, r.Fraction))
                    ready.Add((Later(start, readyMs), new RuleDraft(p.Index, did, r.Rule, null)));
            }
            if (level == RuleLevel.Container)
            {
                for (var c = 0L; c < e.ContainerCount; c++)
                {
                    var (first, count) = e.DatasetsOf(c);
                    var complete = 0L;
                    for (var d = first; d < first + count && complete >= 0; d++) complete = last[d] < 0 ? -1 : Math.Max(complete, last[d]);
                    Add(complete, DidKind.Container, c);
                }
                continue;
            }
            for (var d = 0L; d < e.DatasetCount; d++)
            {
                if (level == RuleLevel.Dataset)
                {
                    Add(last[d], DidKind.Dataset, d);
                    continue;
                }
                var (first, count) = e.FilesOf(d);
                for (var f = first; f < first + count; f++) Add(last[d], DidKind.File, f);
            }
        }
        return Pace(p, r.Load, ready);
    }

    /// <summary>A new rule on the DID of each selected rule of the source phase, when that rule is planned.</summary>
    private List<RuleDraft> Transition(PlannedPhase p, QosTransitionPhase q, TimeSpan start, List<RuleDraft> old)
    {
        var ready = old.Where(o => o.At < Duration && Selected(p.Index, o.Did, q.Fraction))
            .Select(o => (Later(start, Ms(o.At)), new RuleDraft(p.Index, o.Did, q.Rule, q.RemoveOld ? o : null))).ToList();
        return Pace(p, q.Load, ready);
    }

    /// <summary>
    /// Lifetimes on the rules of the named phases (all rules of the phase's experiments when none is named and no DID
    /// lifetime is set) and on the datasets, each when its rule or dataset exists.
    /// </summary>
    private List<PlannedOperation> Delete(PlannedPhase p, DeletePhase d, TimeSpan start, List<RuleDraft> rules)
    {
        var ready = new List<(TimeSpan Ready, PlannedOperation Operation)>();
        if (d.RulesOf.Count > 0 || d.DidLifetime is null)
        {
            var phases = d.RulesOf.Select(IndexOfPhase).ToHashSet();
            foreach (var rule in rules)
            {
                var mine = d.RulesOf.Count > 0 ? phases.Contains(rule.Phase) : p.Experiments.Contains(rule.Did.Experiment);
                if (mine && Selected(p.Index, rule.Did, d.Fraction))
                    ready.Add((Later(start, Ms(rule.At)), new SetRuleLifetime(default, p.Index, rule.Number, d.RuleLifetime)));
            }
        }
        if (d.DidLifetime is { } lifetime)
        {
            foreach (var ei in p.Experiments)
            {
                var first = _datasetFirstMs[ei];
                for (var ds = 0L; ds < first.Length; ds++)
                {
                    var did = new PlannedDid(DidKind.Dataset, ei, ds);
                    if (first[ds] >= 0 && Selected(p.Index, did, d.Fraction))
                        ready.Add((Later(start, first[ds]), new SetDidLifetime(default, p.Index, did, lifetime)));
                }
            }
        }
        var sorted = ready.Select((x, i) => (x, i)).OrderBy(y => y.x.Ready).ThenBy(y => y.i).Select(y => y.x).ToList();
        var at = PaceInstants(p, LoadOf(p.Spec), sorted.Select(x => x.Ready).ToList());
        return [.. sorted.Select((x, i) => x.Operation with { At = at[i] })];
    }

    private static IReadOnlyList<LoadSimulation> LoadOf(Phase phase) => phase switch
    {
        ReplicatePhase r => r.Load,
        QosTransitionPhase q => q.Load,
        DeletePhase d => d.Load,
        _ => [],
    };

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
