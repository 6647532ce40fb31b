using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Lake.Daemons;

/// <summary>
/// The limits of the seed's "FDR Takeaway" (shared/reference/escape-fdr-2020/takeaway.csv): CPU and memory limits per
/// daemon, taking the bracketed limit where the table gives one and the later change (*) where there is one.
/// Replicas and threads are unchanged (the takeaway keeps them). Used to check that the OOMKills of the seed's limits
/// disappear with the limits the operators settled on.
/// </summary>
public static class EscapeTakeaway
{
    public static readonly IReadOnlyDictionary<string, (string Cpu, string Memory)> Limits = new Dictionary<string, (string, string)>
    {
        ["rucio-ui"] = ("100m", "800Mi"),
        ["rucio-server-auth"] = ("1", "1Gi"),
        ["rucio-server"] = ("4", "4Gi"),
        ["abacus-account"] = ("100m", "150Mi"),
        ["abacus-collection-replica"] = ("1", "8Gi"),
        ["abacus-rse"] = ("100m", "150Mi"),
        ["conveyor-submitter"] = ("800m", "400Mi"),
        ["conveyor-poller"] = ("500m", "250Mi"),
        ["conveyor-finisher"] = ("1500m", "500Mi"),
        ["hermes"] = ("100m", "200Mi"),
        ["judge-injector"] = ("1", "10Gi"),
        ["judge-evaluator"] = ("2", "3Gi"),
        ["judge-repairer"] = ("1", "800Mi"),
        ["judge-cleaner"] = ("1", "400Mi"),
        ["reaper"] = ("400m", "400Mi"),
        ["transmogrifier"] = ("100m", "200Mi"),
        ["undertaker"] = ("1", "400Mi"),
    };

    /// <summary>The scenario with every listed daemon's requests and limits set to the takeaway's, and no limit-change chaos.</summary>
    public static Scenario Apply(Scenario scenario)
    {
        var daemons = scenario.Daemons.Select(d =>
        {
            if (!Limits.TryGetValue(d.Name, out var l)) return d;
            var r = new Resources { Cpu = CpuQuantity.Parse(l.Cpu), Memory = ByteSize.Parse(l.Memory) };
            return d with { Requests = r, Limits = r };
        }).ToArray();
        return scenario with
        {
            Daemons = daemons,
            Chaos = scenario.Chaos.Where(c => c is not LimitChange).ToArray(),
        };
    }
}
