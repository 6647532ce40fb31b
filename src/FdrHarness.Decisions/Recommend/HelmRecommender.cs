using System.Globalization;
using System.Text;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Decisions.Recommend;

public enum Policy { Max, Vpa, Krr }

/// <summary>What to set for one daemon, with the two recommenders' figures it came from.</summary>
public sealed record DaemonLimits(string Daemon, int Replicas, int? Threads, double CpuRequest, double? CpuLimit, long Memory, Recommendation From, int OomKilled)
{
    /// <summary>Where the usage behind these figures comes from: the lake's simulated model, a model calibrated in the scenario, or live samples.</summary>
    public string Source { get; init; } = Sources.Simulated;
    /// <summary>The CPU the pod needed, sustained (p95 of its running samples; its limit when it was throttled there).</summary>
    public double SustainedCpu { get; init; }
}

/// <summary>The three sources a recommendation can rest on, as the table and the values files label them.</summary>
public static class Sources
{
    public const string Simulated = "simulated model";
    public const string Calibrated = "calibrated model";
    public const string Live = "live samples";

    /// <summary>Live runs sample real pods; on the embedded lake a daemon with a model: section in the scenario was calibrated, the others use the defaults.</summary>
    public static Func<string, string> For(Summary summary, Scenario? scenario) => daemon =>
        summary.Run.Target != "embedded" ? Live
        : scenario?.Daemons.FirstOrDefault(d => d.Name == daemon) is { Model.Count: > 0 } ? Calibrated
        : Simulated;
}

public sealed record RecommendResult(IReadOnlyList<DaemonLimits> Daemons, Takeaway Takeaway, int? NodesNeeded, double? NodeCpu, long? NodeMemory, int? NodesAvailable);

/// <summary>
/// Turns the report's recommendations (Reporting's <see cref="Recommendations"/>: VPA and KRR, OOM-aware) into limits
/// and a rucio-daemons Helm values override. Default policy "max", for a pod that must not be OOMKilled again: memory
/// request = limit = the larger of VPA's target (bumped after an OOM) and KRR's peak × 1.15; CPU request = VPA's
/// target; CPU limit = the current one, raised to the request (KRR would drop it; the chart's defaults set one).
/// Servers (rucio-server, rucio-server-auth, rucio-ui) are other charts' releases: their values go to their own files.
/// </summary>
public static class HelmRecommender
{
    public static readonly IReadOnlySet<string> Servers = new HashSet<string>(StringComparer.Ordinal) { "rucio-server", "rucio-server-auth", "rucio-ui" };

    public static RecommendResult Recommend(Summary summary, Policy policy = Policy.Max, Func<string, string>? source = null)
    {
        source ??= Sources.For(summary, null);
        var daemons = summary.Takeaway.Daemons.Select(r =>
        {
            var usage = summary.Resources.FirstOrDefault(u => u.Daemon == r.Daemon);
            var memory = policy switch { Policy.Vpa => r.VpaMemory, Policy.Krr => r.KrrMemory, _ => Math.Max(r.VpaMemory, r.KrrMemory) };
            // Never below what the pod was measured to need, sustained: a request under it starves the pod on a busy node.
            var sustained = SustainedCpu(usage);
            var cpu = Math.Max(policy == Policy.Krr ? r.KrrCpuRequest : r.VpaCpu, sustained);
            double? cpuLimit = policy == Policy.Krr ? null : r.CurrentCpuLimit is { } l ? Math.Max(l, cpu) : null;
            // Whole millicores, rounded up: rounding to the nearest could put the request just under the need.
            return new DaemonLimits(r.Daemon, Math.Max(r.Replicas, 1), r.Threads, Math.Ceiling(cpu * 1000 - 1e-9) / 1000, cpuLimit, memory, r, usage?.OomKilled ?? 0)
            {
                Source = source(r.Daemon), SustainedCpu = Math.Round(sustained, 3),
            };
        }).ToList();
        var t = summary.Takeaway;
        int? nodes = t.NodeCpu is { } c && t.NodeMemory is { } m
            ? Recommendations.NodesNeeded(daemons.SelectMany(d => Enumerable.Repeat((d.CpuRequest, d.Memory), d.Replicas)), c, m) : null;
        return new RecommendResult(daemons, t, nodes, t.NodeCpu, t.NodeMemory, t.NodesAvailable);
    }

    /// <summary>
    /// The CPU a daemon's pods needed, sustained: the p95 of their running samples; when that p95 sits at the CPU limit
    /// (within 5 %), the pods were throttled there and needed at least the limit.
    /// </summary>
    public static double SustainedCpu(ResourceUsage? u)
    {
        if (u is null) return 0;
        return u.CpuLimit is { } limit && limit > 0 && u.CpuP95 >= 0.95 * limit ? Math.Max(limit, u.CpuP95) : u.CpuP95;
    }

    /// <summary>The chart's key: camelCase of the daemon name; the submitter is conveyorTransferSubmitter.</summary>
    public static string HelmKey(string daemon) => daemon switch
    {
        "conveyor-submitter" => "conveyorTransferSubmitter",
        _ => string.Concat(daemon.Split('-').Select((part, i) => i == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..])),
    };

    public static string Cpu(double cores) => CpuQuantity.FromCores(Math.Max(cores, 0.001)).Millicores % 1000 == 0
        ? (CpuQuantity.FromCores(cores).Millicores / 1000).ToString(CultureInfo.InvariantCulture)
        : CpuQuantity.FromCores(Math.Max(cores, 0.001)).Millicores.ToString(CultureInfo.InvariantCulture) + "m";

    public static string Memory(long bytes) => ((bytes + (1 << 20) - 1) >> 20).ToString(CultureInfo.InvariantCulture) + "Mi";

    /// <summary>rucio-daemons values override: {daemon}Count and {daemon}: {threads, resources: {requests, limits}}.</summary>
    public static string DaemonsValues(RecommendResult r, string source)
    {
        var sb = new StringBuilder();
        sb.Append($"# rucio-daemons values override, recommended by fdr recommend from {source}\n");
        sb.Append($"# memory: max(VPA target (OOM-bumped), KRR peak x 1.15), bumped again while a replay on the embedded lake is OOMKilled; CPU request: VPA target. Nodes needed: {r.NodesNeeded?.ToString(CultureInfo.InvariantCulture) ?? "unknown (no node shape)"}");
        sb.Append(r.NodesAvailable is { } a ? $" of {a} available\n" : "\n");
        foreach (var d in r.Daemons.Where(d => !Servers.Contains(d.Daemon)))
        {
            var key = HelmKey(d.Daemon);
            sb.Append($"{key}Count: {d.Replicas}\n{key}:\n");
            sb.Append($"  # from {d.Source}; sustained CPU need {Cpu(d.SustainedCpu)}\n");
            if (d.Threads is { } th) sb.Append($"  threads: {th}\n");
            Resources(sb, d, "  ");
        }
        return sb.ToString();
    }

    /// <summary>A server's own release (rucio-server chart): replicaCount and resources.</summary>
    public static string ServerValues(DaemonLimits d, string source)
    {
        var sb = new StringBuilder($"# {d.Daemon} values override (rucio-server chart), recommended by fdr recommend from {source}\n# usage from {d.Source}; sustained CPU need {Cpu(d.SustainedCpu)}\n");
        sb.Append($"replicaCount: {d.Replicas}\n");
        Resources(sb, d, "");
        return sb.ToString();
    }

    private static void Resources(StringBuilder sb, DaemonLimits d, string indent)
    {
        sb.Append($"{indent}resources:\n{indent}  requests: {{cpu: {Cpu(d.CpuRequest)}, memory: {Memory(d.Memory)}}}\n");
        sb.Append($"{indent}  limits: {{{(d.CpuLimit is { } l ? $"cpu: {Cpu(l)}, " : "")}memory: {Memory(d.Memory)}}}");
        sb.Append(d.OomKilled > 0 ? $"   # OOMKilled {d.OomKilled}x at {Memory(d.From.CurrentMemoryLimit ?? 0)}\n" : "\n");
    }

    /// <summary>The side-by-side table: current, VPA, KRR and what is written.</summary>
    public static string Table(RecommendResult r)
    {
        var sb = new StringBuilder();
        sb.Append($"{"daemon",-26} {"pods",4} {"OOM",4}  {"current cpu/mem",-18} {"VPA cpu/mem",-18} {"KRR cpu/mem",-18} {"sustained cpu",-13} {"written cpu/mem",-18} source\n");
        foreach (var d in r.Daemons)
        {
            var f = d.From;
            string Pair(double? c, long? m) => $"{(c is { } x ? Cpu(x) : "-")}/{(m is { } y ? Memory(y) : "-")}";
            sb.Append($"{d.Daemon,-26} {d.Replicas,4} {d.OomKilled,4}  {Pair(f.CurrentCpuLimit, f.CurrentMemoryLimit),-18} {Pair(f.VpaCpu, f.VpaMemory) + (f.VpaOomBump ? "*" : ""),-18} {Pair(f.KrrCpuRequest, f.KrrMemory),-18} {Cpu(d.SustainedCpu),-13} {Pair(d.CpuRequest, d.Memory),-18} {d.Source}\n");
        }
        var shape = r.NodeCpu is { } c && r.NodeMemory is { } m ? $" of {Cpu(c)} CPU / {Memory(m)}" : "";
        sb.Append($"* VPA memory bumped after an OOM kill. The written CPU request is never below the sustained need (p95, or the limit when throttled there). Nodes needed{shape}: VPA {r.Takeaway.NodesNeededVpa?.ToString(CultureInfo.InvariantCulture) ?? "?"}, KRR {r.Takeaway.NodesNeededKrr?.ToString(CultureInfo.InvariantCulture) ?? "?"}, written {r.NodesNeeded?.ToString(CultureInfo.InvariantCulture) ?? "?"}" +
            (r.NodesAvailable is { } a ? $" (scenario has {a})\n" : "\n"));
        return sb.ToString();
    }

    /// <summary>The scenario with the override's requests and limits on its daemons; limit changes of those daemons are dropped (the override supersedes them).</summary>
    public static Scenario Apply(Scenario scenario, IReadOnlyDictionary<string, (Resources Requests, Resources Limits, int? Replicas)> values) => scenario with
    {
        Daemons = scenario.Daemons.Select(d => values.TryGetValue(d.Name, out var v) ? d with { Requests = v.Requests, Limits = v.Limits, Replicas = v.Replicas ?? d.Replicas } : d).ToArray(),
        Chaos = scenario.Chaos.Where(c => c is not LimitChange lc || !values.ContainsKey(lc.Daemon)).ToArray(),
    };

    /// <summary>Writes rucio-daemons.values.yaml and one {server}.values.yaml per server into <paramref name="dir"/>; returns the paths.</summary>
    public static IReadOnlyList<string> Write(RecommendResult r, string dir, string source)
    {
        Directory.CreateDirectory(dir);
        var files = new List<string>();
        var daemons = Path.Combine(dir, "rucio-daemons.values.yaml");
        File.WriteAllText(daemons, DaemonsValues(r, source));
        files.Add(daemons);
        foreach (var s in r.Daemons.Where(d => Servers.Contains(d.Daemon)))
        {
            var path = Path.Combine(dir, $"{s.Daemon}.values.yaml");
            File.WriteAllText(path, ServerValues(s, source));
            files.Add(path);
        }
        return files;
    }
}
