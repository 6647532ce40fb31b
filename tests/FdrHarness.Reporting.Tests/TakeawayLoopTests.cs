using FdrHarness.Reporting.Analysis;

namespace FdrHarness.Reporting.Tests;

/// <summary>The takeaway's loops give what the LINQ they replaced gave (kept here as the reference): sums in order, nodes by first-fit decreasing with ties.</summary>
public sealed class TakeawayLoopTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void TotalsAsTheLinqTheyReplaced(int seed)
    {
        var random = new Random(seed);
        // Few distinct sizes, so that equal shares of a node (the sort's ties) are common.
        var daemons = Enumerable.Range(0, 30).Select(i => new Recommendation
        {
            Daemon = "d" + i, Replicas = random.Next(0, 4), VpaCpu = random.Next(1, 5) * 0.25, VpaMemory = random.Next(1, 5) * (256L << 20),
            KrrCpuRequest = random.Next(1, 9) * 0.1, KrrMemory = random.Next(1, 9) * (300L << 20),
            CurrentCpuLimit = seed == 3 && i == 7 ? null : random.Next(1, 4) * 0.7, CurrentMemoryLimit = seed == 2 && i == 11 ? null : random.Next(1, 4) * (1L << 30),
        }).ToList();
        var (nodeCpu, nodeMemory) = (4.0, 8L << 30);

        var t = Recommendations.Totals(daemons, nodeCpu, nodeMemory, 5);

        Assert.Equal(daemons.Sum(d => d.Replicas), t.Pods);
        Assert.Equal(Stats.Round(daemons.Sum(d => d.VpaCpu * d.Replicas), 3), t.VpaCpu);
        Assert.Equal(daemons.Sum(d => d.VpaMemory * d.Replicas), t.VpaMemory);
        Assert.Equal(Stats.Round(daemons.Sum(d => d.KrrCpuRequest * d.Replicas), 3), t.KrrCpu);
        Assert.Equal(daemons.Sum(d => d.KrrMemory * d.Replicas), t.KrrMemory);
        Assert.Equal(daemons.All(d => d.CurrentCpuLimit is not null) ? Stats.Round(daemons.Sum(d => d.CurrentCpuLimit!.Value * d.Replicas), 3) : null, t.CurrentCpu);
        Assert.Equal(daemons.All(d => d.CurrentMemoryLimit is not null) ? daemons.Sum(d => d.CurrentMemoryLimit!.Value * d.Replicas) : null, t.CurrentMemory);
        Assert.Equal(LinqNodesNeeded(daemons.SelectMany(d => Enumerable.Repeat((d.VpaCpu, d.VpaMemory), d.Replicas)), nodeCpu, nodeMemory), t.NodesNeededVpa);
        Assert.Equal(LinqNodesNeeded(daemons.SelectMany(d => Enumerable.Repeat((d.KrrCpuRequest, d.KrrMemory), d.Replicas)), nodeCpu, nodeMemory), t.NodesNeededKrr);
        Assert.Null(Recommendations.Totals(daemons, null, nodeMemory, 5).NodesNeededVpa);
    }

    [Fact]
    public void NodesNeededAsTheLinqItReplaced()
    {
        var random = new Random(5);
        for (var round = 0; round < 50; round++)
        {
            var pods = Enumerable.Range(0, random.Next(0, 60)).Select(_ => (random.Next(1, 12) * 0.5, random.Next(1, 12) * (1L << 30))).ToList();
            Assert.Equal(LinqNodesNeeded(pods, 4, 8L << 30), Recommendations.NodesNeeded(pods, 4, 8L << 30));
        }
    }

    private static int LinqNodesNeeded(IEnumerable<(double Cpu, long Memory)> pods, double nodeCpu, long nodeMemory)
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
