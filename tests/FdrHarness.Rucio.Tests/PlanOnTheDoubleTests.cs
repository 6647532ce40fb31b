using FdrHarness.Core;
using FdrHarness.Core.Execution;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Rucio.Double;
using FdrHarness.Tests;

namespace FdrHarness.Rucio.Tests;

/// <summary>
/// The live target carries out the plan exactly: every file the plan injects is registered on the RSE the plan chose,
/// every dataset and container holds what the plan puts in it, every planned rule is on its DID with its expression —
/// and nothing else. (The embedded lake is held to the same plan in Lake.Tests' PlanOnTheLakeTests.)
/// </summary>
public sealed class PlanOnTheDoubleTests
{
    /// <summary>tests/Shared/plan-on-both-targets.yaml: the scenario the lake's test carries out too.</summary>
    public static string ScenarioPath => Path.Combine(RepoPaths.Root, "tests", "Shared", "plan-on-both-targets.yaml");

    [Fact]
    public async Task The_live_target_registers_exactly_the_plans_files_datasets_and_rules()
    {
        await using var rucio = await DoubleWorld.StartAsync();
        var loaded = ScenarioLoader.Load(ScenarioPath);
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        var run = await LiveHarness.RunAsync(loaded.Scenario!, new LiveRunOptions { RucioUrl = rucio.Url, Env = n => n == "PW" ? rucio.Password : null, WaitForDuration = false });
        Assert.True(run.Exit == ExitCodes.Success, run.Stdout + run.Stderr);

        var plan = RunPlan.Create(loaded.Scenario!);
        var snapshot = rucio.Snapshot();
        var files = plan.Operations().OfType<InjectFiles>().SelectMany(o => o.Files).ToList();
        Assert.Equal(420, files.Count);

        // Files on the RSE the plan chose, and no other replica.
        var expectedReplicas = files.Select(f => ($"{f.File.Scope}:{f.File.Name}", plan.Experiments[f.Experiment].WriteRses[f.WriteRseStart])).ToHashSet();
        Assert.Equal(expectedReplicas.OrderBy(x => x), snapshot.Replicas.OrderBy(x => x));
        // Datasets hold their files, containers their datasets; nothing more.
        var expectedContents = files.Select(f => ($"{f.File.Scope}:{f.File.Dataset}", $"{f.File.Scope}:{f.File.Name}"))
            .Concat(files.Where(f => f.File.Container is not null).Select(f => ($"{f.File.Scope}:{f.File.Container}", $"{f.File.Scope}:{f.File.Dataset}")))
            .ToHashSet();
        Assert.Equal(expectedContents.OrderBy(x => x), snapshot.Contents.OrderBy(x => x));
        // One rule per planned rule, on its DID, to its expression.
        var expectedRules = plan.Operations().OfType<AddRule>().Select(r => ($"{plan.ScopeOf(r.Did)}:{plan.NameOf(r.Did)}", r.Spec.RseExpression.Text)).ToList();
        Assert.Equal(plan.RuleCount, expectedRules.Count);
        Assert.True(expectedRules.Count > 5, "the fraction left some rules");
        Assert.Equal(expectedRules.Order(), snapshot.Rules.Select(r => (r.Did, r.RseExpression)).Order());
        // And the run reports what the double holds.
        Assert.Equal(420, run.Outcome!.Counters[RunCounters.FilesInjected]);
        Assert.Equal(plan.RuleCount, run.Outcome.Counters[RunCounters.RulesCreated]);
        Assert.Equal(0, run.Outcome.Counters[RunCounters.OperationsFailed]);
    }

    [Fact]
    public async Task Four_shards_against_one_Rucio_register_what_one_process_does_and_their_counts_sum_to_its()
    {
        var loaded = ScenarioLoader.Load(ScenarioPath);
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        var plan = RunPlan.Create(loaded.Scenario!);

        await using var alone = await DoubleWorld.StartAsync();
        var one = await LiveHarness.RunAsync(loaded.Scenario!, new LiveRunOptions { RucioUrl = alone.Url, Env = n => n == "PW" ? alone.Password : null, WaitForDuration = false });
        Assert.True(one.Exit == ExitCodes.Success, one.Stdout + one.Stderr);

        // The four shards at once, as an Indexed Job's pods, against one Rucio.
        await using var shared = await DoubleWorld.StartAsync();
        var shards = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => LiveHarness.RunAsync(loaded.Scenario!,
            new LiveRunOptions { RucioUrl = shared.Url, Env = n => n == "PW" ? shared.Password : null, WaitForDuration = false }, shard: new ShardSpec(i, 4))));
        Assert.All(shards, s => Assert.True(s.Exit == ExitCodes.Success, s.Stdout + s.Stderr));
        Assert.True(shards.Count(s => s.Outcome!.Counters[RunCounters.FilesInjected] > 0) >= 2, "the files are spread over the shards");

        // Rucio holds the same catalog: replicas, contents and rules.
        var (a, b) = (alone.Snapshot(), shared.Snapshot());
        Assert.Equal(a.Replicas.Order(), b.Replicas.Order());
        Assert.Equal(a.Contents.Order(), b.Contents.Order());
        Assert.Equal(a.Rules.Select(r => (r.Did, r.RseExpression)).Order(), b.Rules.Select(r => (r.Did, r.RseExpression)).Order());
        // And what each shard read back of its part sums to what the one process read back of the whole.
        foreach (var name in new[] { RunCounters.FilesPlanned, RunCounters.FilesInjected, RunCounters.RulesPlanned, RunCounters.RulesCreated, RunCounters.OperationsFailed })
            Assert.Equal(one.Outcome!.Counters[name], shards.Sum(s => s.Outcome!.Counters[name]));
        Assert.Equal(420, shards.Sum(s => s.Outcome!.Counters[RunCounters.FilesInjected]));
        Assert.Equal(plan.RuleCount, shards.Sum(s => s.Outcome!.Counters[RunCounters.RulesCreated]));
    }
}
