using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Synthetic;

namespace FdrHarness.Core.Planning;

// replicate: a rule on each selected DID of the phase's experiments.
public sealed partial class RunPlan
{
    /// <summary>A rule on each selected DID of the phase's experiments, once the DID is complete (its last file planned).</summary>
    internal List<RuleDraft> Replicate(PlannedPhase p, ReplicatePhase r, TimeSpan start)
    {
        var ready = new List<RuleDraft>();
        foreach (var ei in p.Experiments)
        {
            var e = Experiments[ei];
            var last = _datasetLastMs[ei];
            var level = r.Level == RuleLevel.Container && e.DatasetsPerContainer == 0 ? RuleLevel.Dataset : r.Level;
            void Add(long readyMs, DidKind kind, long index)
            {
                var did = new PlannedDid(kind, ei, index);
                if (readyMs >= 0 && Selected(p.Index, did, r.Fraction))
                    ready.Add(new RuleDraft(p.Index, did, r.Rule, null) { At = Later(start, readyMs) });
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
}
