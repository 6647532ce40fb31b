using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Planning;

// delete: lifetimes on rules and datasets.
public sealed partial class RunPlan
{
    /// <summary>
    /// Lifetimes on the rules of the named phases (all rules of the phase's experiments when none is named and no DID
    /// lifetime is set) and on the datasets, each when its rule or dataset exists.
    /// </summary>
    internal List<PlannedOperation> Delete(PlannedPhase p, DeletePhase d, TimeSpan start, List<RuleDraft> rules)
    {
        // Each operation at the instant it becomes ready, paced below.
        var ready = new List<PlannedOperation>();
        if (d.RulesOf.Count > 0 || d.DidLifetime is null)
        {
            var phases = new bool[Phases.Count];
            foreach (var name in d.RulesOf)
                if (IndexOfPhase(name) is >= 0 and var i) phases[i] = true;
            foreach (var rule in rules)
            {
                var mine = d.RulesOf.Count > 0 ? phases[rule.Phase] : p.Experiments.Contains(rule.Did.Experiment);
                if (mine && Selected(p.Index, rule.Did, d.Fraction))
                    ready.Add(new SetRuleLifetime(Later(start, Ms(rule.At)), p.Index, rule.Number, d.RuleLifetime));
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
                        ready.Add(new SetDidLifetime(Later(start, first[ds]), p.Index, did, lifetime));
                }
            }
        }
        var sorted = InOrder(ready, StableOrder(ready.Count, (a, b) => ready[a].At.CompareTo(ready[b].At)));
        var readyAt = new TimeSpan[sorted.Count];
        for (var i = 0; i < readyAt.Length; i++) readyAt[i] = sorted[i].At;
        var at = PaceInstants(p, d.Load, readyAt);
        for (var i = 0; i < sorted.Count; i++) sorted[i] = sorted[i] with { At = at[i] };
        return sorted;
    }
}
