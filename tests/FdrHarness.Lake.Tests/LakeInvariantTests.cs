using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Tests.Recount;

namespace FdrHarness.Lake.Tests;

/// <summary>The invariants (<see cref="RunInvariants"/>, recomputed from the Parquet files) on every scenario in scenarios/.</summary>
public class LakeInvariantTests
{
    /// <summary>Every scenario in scenarios/, scaled down to at most about 20,000 files to keep the tests quick.</summary>
    public static TheoryData<string> ScenarioFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "scenarios"), "*.yaml").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Fact]
    public void The_scenarios_folder_has_the_two_reference_scenarios()
    {
        var files = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "scenarios"), "*.yaml").Select(Path.GetFileName).ToList();
        Assert.Contains("ci-smoke.yaml", files);
        Assert.Contains("escape-fdr-2020.yaml", files);
    }

    [Theory]
    [MemberData(nameof(ScenarioFiles))]
    public void Scenario_keeps_the_invariants(string file)
    {
        var s = TestScenarios.Load(file);
        var files = s.Experiments.Sum(e => e.Files) * s.Run.Scale;
        using var run = Recounted(files > 20_000 ? s with { Run = s.Run with { Scale = s.Run.Scale * 20_000 / files } } : s);
    }

    [Fact]
    public void Ci_smoke_moves_data_end_to_end()
    {
        using var run = Recounted(TestScenarios.Load("ci-smoke.yaml"));
        var r = run.Result;
        var f = run.Files;
        Assert.True(r.FilesInjected > 2000);
        Assert.True(r.TransfersDone > 1000);
        Assert.True(r.Deletions > 0);
        Assert.True(r.RulesOk + r.RulesRemoved > 0);
        Assert.True(f.Count("RULE_OK") > 0);
        Assert.True(f.Count("CREATE_DTS") > 0);
        Assert.True(f.Count("CREATE_CNT") > 0);
        Assert.True(f.Count("ERASE") > 0);
        Assert.True(f.Faults.Rows >= 2);
        // The pod kill of judge-evaluator: the Deployment replaced the pod.
        var lifecycle = f.LifecycleRows();
        Assert.Contains(lifecycle, e => e.Daemon == "judge-evaluator" && e.Event == "killed");
        Assert.True(lifecycle.Count(e => e.Daemon == "judge-evaluator" && e.Event == "started") >= 2);
    }

    [Fact]
    public void Escape_chaos_kills_the_servers_and_rolls_them_with_new_limits()
    {
        using var run = Recounted(TestScenarios.Load("escape-fdr-2020.yaml", 0.01));
        var lifecycle = run.Files.LifecycleRows();
        var killed = lifecycle.Where(e => e.Event == "killed").ToList();
        Assert.Equal(2, killed.Count(e => e.Daemon == "rucio-server" && e.Reason == "chaos:manual-server-restart"));
        Assert.Equal(2, killed.Count(e => e.Daemon == "rucio-server" && e.Reason == "rolling restart: limits changed"));
        Assert.Equal(1, killed.Count(e => e.Daemon == "rucio-server-auth" && e.Reason == "rolling restart: limits changed"));
        Assert.Equal(3, run.Files.Faults.Rows);
        // Every deleted pod was replaced: as many pods start as were created.
        Assert.Equal(lifecycle.Count(e => e.Event == "scheduled"), lifecycle.Count(e => e.Event == "started"));
    }

    /// <summary>Runs the scenario into Parquet files and checks every invariant on them.</summary>
    internal static RecountedRun Recounted(Scenario scenario) => RecountedRun.Run(scenario);
}
