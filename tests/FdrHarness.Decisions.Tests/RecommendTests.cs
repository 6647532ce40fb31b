using FdrHarness.Core.Scenarios.Helm;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Decisions.Recommend;
using FdrHarness.Decisions.Sweep;
using FdrHarness.Lake;
using static FdrHarness.Decisions.Tests.Repo;

namespace FdrHarness.Decisions.Tests;

public sealed class RecommendTests
{
    [Fact]
    public void Bad_run_directory_is_one_line_and_exit_2()
    {
        var (code, _, err) = Fdr("recommend", "/nonexistent/run");
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Equal("judgeEvaluator", HelmRecommender.HelmKey("judge-evaluator"));
        Assert.Equal("conveyorTransferSubmitter", HelmRecommender.HelmKey("conveyor-submitter"));
    }

    [Fact]
    public void Recommended_limits_applied_back_to_ESCAPE_give_no_OOMKill_at_scale_1()
    {
        var dir = Path.Combine(Path.GetTempPath(), "fdr-recommend-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var (code, _, err) = Fdr("run", RepoPaths.Scenario("escape-fdr-2020.yaml"), "--out", dir);
            Assert.True(code is 0 or 99, err);
            var (rc, output, rerr) = Fdr("recommend", dir);
            Assert.True(rc == 0, rerr);
            Assert.Contains("judge-evaluator", output);
            // Every figure says where it comes from, and no CPU request is below what the pod needed, sustained.
            Assert.Contains("simulated model", output);
            var summary = Reporting.Analysis.SummaryBuilder.Build(dir, new Reporting.ReportOptions { Plots = false });
            foreach (var d in HelmRecommender.Recommend(summary).Daemons)
            {
                var usage = summary.Resources.Single(u => u.Daemon == d.Daemon);
                Assert.True(d.CpuRequest >= usage.CpuP95 - 1e-9, $"{d.Daemon}: CPU request {d.CpuRequest} below its p95 {usage.CpuP95}");
                if (usage.CpuLimit is { } limit && usage.CpuP95 >= 0.95 * limit)
                    Assert.True(d.CpuRequest >= limit, $"{d.Daemon} was throttled at {limit} cores; the request {d.CpuRequest} is below it");
                Assert.Equal(Sources.Simulated, d.Source);
            }
            var folder = Path.Combine(dir, "recommend");
            var daemons = File.ReadAllText(Path.Combine(folder, "rucio-daemons.values.yaml"));
            Assert.Contains("judgeEvaluatorCount: 3", daemons);
            Assert.Contains("conveyorTransferSubmitter:", daemons);
            var servers = HelmRecommender.Servers.Where(s => File.Exists(Path.Combine(folder, $"{s}.values.yaml")))
                .ToDictionary(s => s, s => File.ReadAllText(Path.Combine(folder, $"{s}.values.yaml")));
            // Read back as `fdr run --helm-values` reads a values file; the override supersedes the scenario's limit changes.
            var applied = HelmValues.Apply(Load("escape-fdr-2020.yaml"), daemons, "rucio-daemons.values.yaml");
            Assert.True(applied.Ok, string.Join("\n", applied.Diagnostics));
            var scenario = applied.Scenario!;
            foreach (var (server, text) in servers)
            {
                var withServer = HelmValues.ApplyServer(scenario, server, text, $"{server}.values.yaml");
                Assert.True(withServer.Ok, string.Join("\n", withServer.Diagnostics));
                scenario = withServer.Scenario!;
            }
            scenario = scenario with { Chaos = [.. scenario.Chaos.Where(c => c is not LimitChange)] };
            var sink = new AggregatingSink();
            var result = EmbeddedLake.Run(scenario, sink);
            Assert.Empty(result.Daemons.Where(d => d.OomKills > 0).Select(d => $"{d.Daemon}: {d.OomKills} OOMKilled"));
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
