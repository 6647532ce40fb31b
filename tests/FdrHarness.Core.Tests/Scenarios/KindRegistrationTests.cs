using System.Reflection;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;

namespace FdrHarness.Core.Tests.Scenarios;

/// <summary>
/// A chaos kind and a phase kind are each registered once (<see cref="ChaosKind.All"/>, <see cref="PhaseKind.All"/>);
/// the binder, validator and planner read that list. These find every kind Core declares by reflection, a second path,
/// so a kind left out of its list fails here. The targets' chaos tables are held to the list in Lake.Tests, Rucio.Tests
/// and Kubernetes.Tests.
/// </summary>
public sealed class KindRegistrationTests
{
    private static IEnumerable<Type> Concrete<T>() =>
        typeof(ChaosKind).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(T)) && !t.IsAbstract).OrderBy(t => t.Name);

    [Fact]
    public void Every_chaos_record_and_every_chaos_kind_is_in_the_one_list()
    {
        Assert.Equal(Concrete<ChaosAction>().Select(t => t.Name), ChaosKind.All.Select(k => k.Action.Name).Order());
        Assert.Equal(Concrete<ChaosKind>().Select(t => t.Name), ChaosKind.All.Select(k => k.GetType().Name).Order());
    }

    [Fact]
    public void The_binder_reads_the_chaos_cases_from_the_list()
    {
        var union = (UnionAttribute)Attribute.GetCustomAttribute(typeof(ChaosAction), typeof(UnionAttribute))!;
        Assert.Equal(ChaosKind.All.Select(k => k.Action), union.Cases);
    }

    [Fact]
    public void A_kind_no_live_target_acts_on_says_why_in_the_plan()
    {
        var scenario = new Scenario();
        foreach (var kind in ChaosKind.All.Where(k => k.Side == LiveSide.None))
        {
            var (applied, note) = kind.Live(scenario);
            Assert.False(applied);
            Assert.False(string.IsNullOrWhiteSpace(note), kind.GetType().Name);
        }
    }

    [Fact]
    public void Every_phase_record_and_every_phase_kind_is_in_the_one_list()
    {
        Assert.Equal(Concrete<Phase>().Select(t => t.Name), PhaseKind.All.Select(k => k.Phase.Name).Order());
        Assert.Equal(Concrete<PhaseKind>().Select(t => t.Name), PhaseKind.All.Select(k => k.GetType().Name).Order());
        var union = (UnionAttribute)Attribute.GetCustomAttribute(typeof(Phase), typeof(UnionAttribute))!;
        Assert.Equal(PhaseKind.All.Select(k => k.Phase), union.Cases);
    }

    // One example per phase kind: a kind added to PhaseKind.All without one fails Every_phase_kind_validates_and_plans.
    private static readonly Dictionary<string, string> PhaseExamples = new(StringComparer.Ordinal)
    {
        ["inject"] = "{name: in, load: [{inject: {rate: 2, interval: 10s, during: 5m}}]}",
        ["replicate"] = "{name: rep, start: 1m, rule: {copies: 1, rse_expression: B-DISK}}",
        ["qos_transition"] = "{name: qos, start: 2m, from: rep, rule: {copies: 1, rse_expression: A-DISK}}",
        ["delete"] = "{name: del, after: in, rules_of: [qos], rule_lifetime: 5m}",
        ["noise"] = "{name: noise, every: 10m}",
    };

    [Fact]
    public void Every_phase_kind_validates_and_plans()
    {
        var tags = PhaseKind.All.Select(k => k.Phase.GetCustomAttribute<UnionCaseAttribute>()!.Tag).ToList();
        Assert.Equal(tags.Order(), PhaseExamples.Keys.Order());
        var yaml = """
            run: {name: phase-kinds, seed: 3, duration: 30m, observation_interval: 1m}
            cluster: {nodes: [{name: worker, count: 1, cpu: 8, memory: 16Gi}]}
            rses:
              A-DISK: {storage: dcache, quota: 10 TB}
              B-DISK: {storage: eos, quota: 10 TB}
            experiments:
              CTA: {files: 20, file_size: 1 MB, files_per_dataset: 5, write_to: A-DISK}
            daemons:
              reaper: {replicas: 1}
            workload:

            """ + string.Concat(tags.Select(t => $"  - {t}: {PhaseExamples[t]}\n"));
        var loaded = ScenarioLoader.Parse(yaml, "phase-kinds.yaml");
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        var plan = RunPlan.Create(loaded.Scenario!);
        foreach (var p in plan.Phases)
            Assert.True(plan.PhaseOperations[p.Index] > 0, $"{p.Kind} {p.Name} plans nothing");
    }
}
