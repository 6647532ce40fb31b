using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Decisions.Sweep;
using FdrHarness.Lake;
using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Decisions.Recommend;

/// <summary>Rounds of replaying the scenario with the recommended limits, and the OOM kills seen in each.</summary>
public sealed record Verification(int Rounds, IReadOnlyList<IReadOnlyDictionary<string, int>> OomKillsPerRound)
{
    public bool NoOom => OomKillsPerRound.Count > 0 && OomKillsPerRound[^1].Count == 0;
}

/// <summary>
/// A pod killed at its limit shows only that it needed more than the limit, not how much: one run cannot say. VPA
/// learns it from the next kill; on the embedded lake we can replay instead. Each round applies the recommendation to
/// the run's scenario and replays it in memory; a daemon still OOMKilled gets VPA's bump again on its new limit
/// (max(limit + 100 MiB, limit × 1.2)), until no pod is killed or the rounds run out.
/// </summary>
public static class OomVerifier
{
    public static (RecommendResult Result, Verification Verification) Converge(Scenario scenario, RecommendResult result, int maxRounds = 6)
    {
        var kills = new List<IReadOnlyDictionary<string, int>>();
        for (var round = 1; round <= maxRounds; round++)
        {
            var applied = HelmRecommender.Apply(scenario, ToValues(result));
            var sink = new AggregatingSink();
            EmbeddedLake.Run(applied, sink);
            var oom = sink.Daemons.Where(d => d.Value.OomKills > 0).ToDictionary(d => d.Key, d => d.Value.OomKills, StringComparer.Ordinal);
            kills.Add(oom);
            if (oom.Count == 0) return (result, new Verification(round, kills));
            result = result with
            {
                Daemons = result.Daemons.Select(d => !oom.ContainsKey(d.Daemon) ? d : d with
                {
                    Memory = CeilMiB(Math.Max(d.Memory + Recommendations.OomMinBump, d.Memory * Recommendations.OomBumpRatio)),
                }).ToList(),
            };
        }
        return (result, new Verification(maxRounds, kills));
    }

    /// <summary>The recommendation as the scenario's requests and limits (what the values override sets).</summary>
    public static IReadOnlyDictionary<string, (Resources Requests, Resources Limits, int? Replicas)> ToValues(RecommendResult r) =>
        r.Daemons.ToDictionary(d => d.Daemon, d => (
            new Resources { Cpu = CpuQuantity.Parse(HelmRecommender.Cpu(d.CpuRequest)), Memory = ByteSize.Parse(HelmRecommender.Memory(d.Memory)) },
            new Resources { Cpu = d.CpuLimit is { } l ? CpuQuantity.Parse(HelmRecommender.Cpu(l)) : null, Memory = ByteSize.Parse(HelmRecommender.Memory(d.Memory)) },
            (int?)d.Replicas), StringComparer.Ordinal);

    private static long CeilMiB(double bytes) => (long)Math.Ceiling(bytes / (1 << 20)) << 20;
}
