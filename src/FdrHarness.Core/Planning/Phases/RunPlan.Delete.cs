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
        var at = PaceInstants(p, d.Load, sorted.Select(x => x.Ready).ToList());
        return [.. sorted.Select((x, i) => x.Operation with { At = at[i] })];
    }
}
