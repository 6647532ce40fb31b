using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;
using FdrHarness.Lake.Tests.Recount;

namespace FdrHarness.Lake.Tests;

/// <summary>
/// Property tests over generated scenarios (tests/Shared/ScenarioGenerator.cs): each is written as YAML and loaded as
/// a user's file would be (so "valid" means what `fdr validate` says), run into Parquet files, and every invariant
/// is recomputed from those files by a separate reader (<see cref="RunInvariants"/>). More seeds:
/// `dotnet run -c Release --project bench/FdrHarness.Bench -- lake-invariants --scenarios 1000`.
/// </summary>
public class GeneratedScenarioTests
{
    /// <summary>The scenario of a seed as `fdr run` would read it from a file: defaults filled in by the loader.</summary>
    internal static Scenario Load(int seed)
    {
        var yaml = ScenarioWriter.ToYaml(ScenarioGenerator.Generate(seed));
        var loaded = ScenarioLoader.Parse(yaml, $"generated-{seed}.yaml");
        Assert.True(loaded.Ok, $"seed {seed}:\n{string.Join("\n", loaded.Diagnostics)}\n{yaml}");
        return loaded.Scenario!;
    }

    [Fact]
    public void Generated_scenarios_are_valid_and_cover_every_kind()
    {
        var scenarios = Enumerable.Range(1, 200).Select(Load).ToList();
        Assert.Contains(scenarios, s => s.Rses.Count == 1);
        Assert.Contains(scenarios, s => s.Rses.Count >= 50);
        Assert.Contains(scenarios, s => s.Cluster.Nodes.Count == 0);
        Assert.Contains(scenarios, s => s.Rses.Any(r => !r.Availability.Write));
        Assert.Contains(scenarios, s => s.QosClasses.Any(q => q.Name is not ("FAST" or "SAFE" or "CHEAP-ANALYSIS")));
        foreach (var mode in Enum.GetValues<SelectionMode>())
            Assert.Contains(scenarios, s => s.Chaos.OfType<PodKill>().Any(k => k.Mode == mode));
        Assert.Contains(scenarios, s => s.Chaos.OfType<PodKill>().Any(k => k.Selector.Namespaces.Count > 0));
        Assert.Contains(scenarios, s => s.Chaos.OfType<PodKill>().Any(k => k.Selector.Pods.Count > 0));
        Assert.Contains(scenarios, s => s.Chaos.OfType<PodKill>().Any(k => k.Selector.Labels.Count > 0));
        Assert.Contains(scenarios, s => s.Chaos.OfType<PodKill>().Any(k => k.Selector.Daemon is not null));
        Assert.Contains(scenarios, s => s.Chaos.OfType<PodKill>().Any(k => k.Schedule.Until is not null));
        Assert.Contains(scenarios, s => s.Chaos.OfType<LimitChange>().Any());
        Assert.Contains(scenarios, s => s.Chaos.OfType<RseOutage>().Any());
        Assert.Contains(scenarios, s => s.Chaos.OfType<LinkDegradation>().Any());
        foreach (var kind in new[] { typeof(InjectPhase), typeof(ReplicatePhase), typeof(QosTransitionPhase), typeof(DeletePhase), typeof(NoisePhase) })
            Assert.Contains(scenarios, s => s.Workload.Any(p => p.GetType() == kind));
    }

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 60)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Generated_scenario_keeps_every_invariant(int seed)
    {
        using var run = RecountedRun.Run(Load(seed));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(23)]
    public void Generated_scenario_runs_byte_identical_twice(int seed)
    {
        var scenario = Load(seed);
        using var a = RecountedRun.Run(scenario);
        using var b = RecountedRun.Run(scenario);
        foreach (var file in new[] { "events.parquet", "samples.parquet", "lifecycle.parquet", "faults.parquet", "injections.parquet" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.Directory, file)), File.ReadAllBytes(Path.Combine(b.Directory, file)));
    }
}
