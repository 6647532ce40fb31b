using FdrHarness.Decisions.Sweep;
using FdrHarness.Lake;
using static FdrHarness.Decisions.Tests.Repo;

namespace FdrHarness.Decisions.Tests;

public sealed class SweepTests
{
    [Fact]
    public void Sweep_of_ci_smoke_at_two_scales_is_parallel_yet_identical_to_a_lone_run()
    {
        var scenario = Load("ci-smoke.yaml");
        var result = SweepRunner.Run("ci-smoke", "scale", SweepRunner.Scales(scenario, [0.5, 1]));
        Assert.Equal(2, result.Points.Count);
        var one = result.Points.Single(p => p.X == 1);
        var half = result.Points.Single(p => p.X == 0.5);
        Assert.True(one.Observed.TransfersDone > half.Observed.TransfersDone);

        var lone = new AggregatingSink();
        EmbeddedLake.Run(scenario with { Run = scenario.Run with { Scale = 1 } }, lone);
        Assert.Equal(lone.TransfersDone, one.Observed.TransfersDone);
        Assert.Equal(lone.Daemons.Select(d => (d.Key, d.Value.PeakMemory, d.Value.OomKills)), one.Observed.Daemons.Select(d => (d.Key, d.Value.PeakMemory, d.Value.OomKills)));
        Assert.Contains(result.Daemons, g => g.Daemon == "judge-evaluator");
        Assert.Contains("first OOM at", SweepRunner.Text(result));
    }

    [Fact]
    public void Fit_recovers_a_power_law()
    {
        var fit = SweepRunner.Fit([(1, 100), (2, 400), (4, 1600)])!.Value;
        Assert.Equal(2, fit.B, 6);
        Assert.Equal(100, fit.A, 6);
    }

    [Fact]
    public void Set_sweeps_one_setting_and_the_cli_writes_plots()
    {
        var scenario = Load("ci-smoke.yaml");
        var points = SweepRunner.Setting(scenario, "daemons.judge-evaluator.limits.memory=1Gi,2Gi");
        Assert.Equal([1L << 30, 2L << 30], points.Select(p => p.Scenario.Daemons.Single(d => d.Name == "judge-evaluator").Limits.Memory!.Value.Bytes));
        Assert.Throws<SweepInputException>(() => SweepRunner.Setting(scenario, "daemons.nope.limits.memory=1Gi"));

        var dir = Path.Combine(Path.GetTempPath(), "fdr-sweep-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var (code, output, err) = Fdr("sweep", RepoPaths.Scenario("ci-smoke.yaml"), "--set", "daemons.judge-evaluator.limits.memory=1Gi,2Gi", "--out", dir);
            Assert.True(code == 0, err);
            Assert.Contains("daemons.judge-evaluator.limits.memory", output);
            Assert.True(File.Exists(Path.Combine(dir, "memory-vs-daemons.judge-evaluator.limits.memory.png")));
            var bad = Fdr("sweep", RepoPaths.Scenario("ci-smoke.yaml"), "--scale", "0,x");
            Assert.Equal(2, bad.Code);
            Assert.Single(bad.Err.Trim().Split('\n'));
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
