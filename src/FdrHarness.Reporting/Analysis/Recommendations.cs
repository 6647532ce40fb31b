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

    /// <remarks>
    /// Loops and arrays, not LINQ: LINQ's code over the pods' (CPU, memory) pairs and the generic sums were JIT-compiled
    /// (about 70 methods) on every report. The sums add in the daemons' order, as LINQ's Sum does.
    /// </remarks>
    public static Takeaway Totals(IReadOnlyList<Recommendation> daemons, double? nodeCpu, long? nodeMemory, int? nodesAvailable)
    {
        bool allCpu = true, allMemory = true;
        double currentCpu = 0, vpaCpu = 0, krrCpu = 0;
        long currentMemory = 0, vpaMemory = 0, krrMemory = 0;
        var pods = 0;
        foreach (var d in daemons)
        {
            if (d.CurrentCpuLimit is { } cpu) currentCpu += cpu * d.Replicas; else allCpu = false;
            if (d.CurrentMemoryLimit is { } memory) currentMemory = checked(currentMemory + memory * d.Replicas); else allMemory = false;
            pods = checked(pods + d.Replicas);
            vpaCpu += d.VpaCpu * d.Replicas;
            vpaMemory = checked(vpaMemory + d.VpaMemory * d.Replicas);
            krrCpu += d.KrrCpuRequest * d.Replicas;
            krrMemory = checked(krrMemory + d.KrrMemory * d.Replicas);
        }
        int? Needed(Func<Recommendation, double> cpu, Func<Recommendation, long> memory)
        {
            if (nodeCpu is not { } c || nodeMemory is not { } m) return null;
            var (cpus, memories) = (new double[pods], new long[pods]);
            var n = 0;
            foreach (var d in daemons)
                for (var r = 0; r < d.Replicas; r++, n++) (cpus[n], memories[n]) = (cpu(d), memory(d));
            return NodesNeeded(cpus, memories, c, m);
        }
        return new Takeaway
        {
            Daemons = daemons,
            Pods = pods,
            VpaCpu = Stats.Round(vpaCpu, 3),
            VpaMemory = vpaMemory,
            KrrCpu = Stats.Round(krrCpu, 3),
            KrrMemory = krrMemory,
            CurrentCpu = allCpu ? Stats.Round(currentCpu, 3) : null, CurrentMemory = allMemory ? currentMemory : null,
            NodeCpu = nodeCpu, NodeMemory = nodeMemory, NodesAvailable = nodesAvailable,
            NodesNeededVpa = Needed(d => d.VpaCpu, d => d.VpaMemory),
            NodesNeededKrr = Needed(d => d.KrrCpuRequest, d => d.KrrMemory),
        };
    }

    /// <summary>
    /// Nodes of one shape that hold every pod's request, by first-fit decreasing (what a scheduler achieves at best
    /// without overcommitting); a pod larger than a node still takes a node of its own.
    /// </summary>
    public static int NodesNeeded(IEnumerable<(double Cpu, long Memory)> pods, double nodeCpu, long nodeMemory)
    {
        var (cpus, memories) = (new List<double>(), new List<long>());
        foreach (var (cpu, memory) in pods)
        {
            cpus.Add(cpu);
            memories.Add(memory);
        }
        return NodesNeeded(cpus.ToArray(), memories.ToArray(), nodeCpu, nodeMemory);
    }

    /// <summary><see cref="NodesNeeded(IEnumerable{ValueTuple{double, long}}, double, long)"/> of pod i's request (cpus[i], memories[i]).</summary>
    private static int NodesNeeded(double[] cpus, long[] memories, double nodeCpu, long nodeMemory)
    {
        // Largest share of a node first; equal shares in the pods' order (a stable sort, as LINQ's OrderByDescending).
        var share = new double[cpus.Length];
        var order = new int[cpus.Length];
        for (var i = 0; i < cpus.Length; i++) (share[i], order[i]) = (Math.Max(cpus[i] / nodeCpu, (double)memories[i] / nodeMemory), i);
        Array.Sort(order, (a, b) => share[b].CompareTo(share[a]) is var c && c != 0 ? c : a.CompareTo(b));
        var (nodeCpus, nodeMemories) = (new double[cpus.Length], new long[cpus.Length]);
        var nodes = 0;
        foreach (var i in order)
        {
            var placed = false;
            for (var n = 0; n < nodes && !placed; n++)
                if (nodeCpus[n] + cpus[i] <= nodeCpu + 1e-9 && nodeMemories[n] + memories[i] <= nodeMemory)
                {
                    (nodeCpus[n], nodeMemories[n]) = (nodeCpus[n] + cpus[i], nodeMemories[n] + memories[i]);
                    placed = true;
                }
            if (!placed) (nodeCpus[nodes], nodeMemories[nodes++]) = (cpus[i], memories[i]);
        }
        return nodes;
    }
}
