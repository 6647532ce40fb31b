using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Helm;
using FdrHarness.Decisions.Recommend;
using FdrHarness.Reporting;
using FdrHarness.Reporting.Analysis;
using static FdrHarness.Decisions.Tests.Repo;

namespace FdrHarness.Decisions.Tests;

/// <summary>What `fdr recommend` writes, read back by `--helm-values` (Core's HelmValues), sets what was recommended.</summary>
[Collection("smoke")]
public sealed class HelmValuesRoundTripTests(SmokeRun run)
{
    [Fact]
    public void RecommendedValuesReadBackGiveTheRecommendedLimits()
    {
        var recommended = HelmRecommender.Recommend(SummaryBuilder.Build(run.Dir, new ReportOptions { Plots = false }));
        var values = HelmRecommender.DaemonsValues(recommended, run.Dir);
        var scenario = Load("ci-smoke.yaml");

        var result = HelmValues.Apply(scenario, values, "rucio-daemons.values.yaml");

        Assert.True(result.Ok, string.Join("\n", result.Diagnostics));
        var daemons = recommended.Daemons.Where(d => !HelmRecommender.Servers.Contains(d.Daemon)).ToList();
        Assert.NotEmpty(daemons);
        foreach (var d in daemons)
        {
            var spec = Assert.Single(result.Scenario!.Daemons, s => s.Name == d.Daemon);
            // The writer rounds memory up to whole MiB and CPU to millicores (at least 1m).
            var memory = new ByteSize((d.Memory + (1 << 20) - 1) >> 20 << 20);
            Assert.Equal((d.Daemon, memory, memory), (spec.Name, spec.Requests.Memory, spec.Limits.Memory));
            Assert.Equal(CpuQuantity.FromCores(Math.Max(d.CpuRequest, 0.001)), spec.Requests.Cpu);
            // No CPU limit written (none before): the scenario's stays, as Helm keeps a default the override leaves out.
            var cpuLimitBefore = scenario.Daemons.SingleOrDefault(s => s.Name == d.Daemon)?.Limits.Cpu;
            Assert.Equal(d.CpuLimit is { } l ? CpuQuantity.FromCores(Math.Max(l, 0.001)) : cpuLimitBefore, spec.Limits.Cpu);
            Assert.Equal(d.Replicas, spec.Replicas);
            if (d.Threads is { } threads) Assert.Equal(threads, spec.Threads);
        }

        // The servers' own chart (replicaCount and resources at the top) reads back the same way.
        foreach (var d in recommended.Daemons.Where(d => HelmRecommender.Servers.Contains(d.Daemon)))
        {
            var server = HelmValues.ApplyServer(scenario, d.Daemon, HelmRecommender.ServerValues(d, run.Dir), $"{d.Daemon}.values.yaml");
            Assert.True(server.Ok, string.Join("\n", server.Diagnostics));
            var spec = Assert.Single(server.Scenario!.Daemons, s => s.Name == d.Daemon);
            var memory = new ByteSize((d.Memory + (1 << 20) - 1) >> 20 << 20);
            Assert.Equal((d.Replicas, memory, memory), (spec.Replicas, spec.Requests.Memory, spec.Limits.Memory));
            Assert.Equal(CpuQuantity.FromCores(Math.Max(d.CpuRequest, 0.001)), spec.Requests.Cpu);
        }
    }
}
