namespace FdrHarness.Reporting.Analysis;

/// <summary>Limits to set, by the two recommenders operators know (see shared/reference/peers.md).</summary>
public static class Recommendations
{
    public const double VpaMargin = 1.15;
    public const double VpaMinCpu = 0.025;
    /// <summary>VPA's --pod-recommendation-min-memory-mb=250 is multiplied by 1024² in its code: 250 MiB.</summary>
    public const long VpaMinMemory = 250L * 1024 * 1024;
    public const long OomMinBump = 100L * 1024 * 1024;
    public const double OomBumpRatio = 1.2;
    public const double KrrMemoryMargin = 1.15;

    public static Recommendation For(ResourceUsage u)
    {
        var vpaCpu = Math.Max(u.CpuP90 * VpaMargin, VpaMinCpu);
        var vpaMem = Math.Max(CeilMiB(u.MemoryP90 * VpaMargin), VpaMinMemory);
        var bump = false;
        if (u.OomKilled > 0 && u.MemoryAtOom is { } used)
        {
            var needed = CeilMiB(Math.Max(used + OomMinBump, used * OomBumpRatio));
            if (needed > vpaMem) (vpaMem, bump) = (needed, true);
        }
        var krrMem = CeilMiB(u.MemoryPeak * KrrMemoryMargin);
        // Judged on usage, not on VPA's floor: a 200 MiB limit that never came close is fine even though VPA says 250.
        var advice = u.MemoryLimit is not { } limit ? "set"
            : u.OomKilled > 0 || u.MemoryP90 * VpaMargin > limit || u.MemoryPeak > limit * 0.9 ? "raise"
            : vpaMem < limit / 2 ? "lower"
            : "keep";
        return new Recommendation
        {
            Daemon = u.Daemon, Replicas = u.Replicas, Threads = u.Threads,
            VpaCpu = Stats.Round(vpaCpu, 3), VpaMemory = vpaMem, VpaOomBump = bump,
            KrrCpuRequest = Stats.Round(Math.Max(u.CpuP95, 0.001), 3), KrrMemory = krrMem,
            CurrentCpuLimit = u.CpuLimit, CurrentMemoryLimit = u.MemoryLimit, MemoryAdvice = advice,
        };
    }

    /// <summary>Recommendations are limits to type into a values file: whole MiB, rounded up.</summary>
    private static long CeilMiB(double bytes) => (long)Math.Ceiling(bytes / (1 << 20)) << 20;

    public static Takeaway Totals(IReadOnlyList<Recommendation> daemons, double? nodeCpu, long? nodeMemory, int? nodesAvailable)
    {
        double? currentCpu = daemons.All(d => d.CurrentCpuLimit is not null) ? Stats.Round(daemons.Sum(d => d.CurrentCpuLimit!.Value * d.Replicas), 3) : null;
        long? currentMem = daemons.All(d => d.CurrentMemoryLimit is not null) ? daemons.Sum(d => d.CurrentMemoryLimit!.Value * d.Replicas) : null;
        return new Takeaway
        {
            Daemons = daemons,
            Pods = daemons.Sum(d => d.Replicas),
            VpaCpu = Stats.Round(daemons.Sum(d => d.VpaCpu * d.Replicas), 3),
            VpaMemory = daemons.Sum(d => d.VpaMemory * d.Replicas),
            KrrCpu = Stats.Round(daemons.Sum(d => d.KrrCpuRequest * d.Replicas), 3),
            KrrMemory = daemons.Sum(d => d.KrrMemory * d.Replicas),
            CurrentCpu = currentCpu, CurrentMemory = currentMem,
            NodeCpu = nodeCpu, NodeMemory = nodeMemory, NodesAvailable = nodesAvailable,
            NodesNeededVpa = nodeCpu is { } c && nodeMemory is { } m ? NodesNeeded(daemons.SelectMany(d => Enumerable.Repeat((d.VpaCpu, d.VpaMemory), d.Replicas)), c, m) : null,
            NodesNeededKrr = nodeCpu is { } c2 && nodeMemory is { } m2 ? NodesNeeded(daemons.SelectMany(d => Enumerable.Repeat((d.KrrCpuRequest, d.KrrMemory), d.Replicas)), c2, m2) : null,
        };
    }

    /// <summary>
    /// Nodes of one shape that hold every pod's request, by first-fit decreasing (what a scheduler achieves at best
    /// without overcommitting); a pod larger than a node still takes a node of its own.
    /// </summary>
    public static int NodesNeeded(IEnumerable<(double Cpu, long Memory)> pods, double nodeCpu, long nodeMemory)
    {
        var nodes = new List<(double Cpu, long Memory)>();
        foreach (var pod in pods.OrderByDescending(p => Math.Max(p.Cpu / nodeCpu, (double)p.Memory / nodeMemory)))
        {
            var placed = false;
            for (var n = 0; n < nodes.Count && !placed; n++)
                if (nodes[n].Cpu + pod.Cpu <= nodeCpu + 1e-9 && nodes[n].Memory + pod.Memory <= nodeMemory)
                {
                    nodes[n] = (nodes[n].Cpu + pod.Cpu, nodes[n].Memory + pod.Memory);
                    placed = true;
                }
            if (!placed) nodes.Add(pod);
        }
        return nodes.Count;
    }
}
