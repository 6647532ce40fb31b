using System.Reflection;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Yaml;
using FdrHarness.Lake.Chaos;

namespace FdrHarness.Lake.Tests;

/// <summary>
/// Every chaos kind of Core's one list (ChaosKind.All) has its action in the lake's table, and a scenario using it
/// validates, plans and runs on the lake, leaving its fault record.
/// </summary>
public sealed class ChaosKindsOnTheLakeTests
{
    // One example per kind: a kind added to ChaosKind.All without one fails Every_kind_has_an_example.
    private static readonly Dictionary<string, string> Examples = new(StringComparer.Ordinal)
    {
        [ChaosKinds.PodKill] = "{name: hit, selector: {daemon: reaper}, mode: all, schedule: {at: 5m}}",
        [ChaosKinds.LimitChange] = "{name: hit, daemon: reaper, at: 5m, limits: {memory: 300Mi}}",
        [ChaosKinds.RseOutage] = "{name: hit, rse: A-DISK, from: 5m, during: 5m, unavailable: [write]}",
        [ChaosKinds.LinkDegradation] = "{name: hit, source: A-DISK, destination: B-DISK, from: 5m, during: 5m, bandwidth_factor: 0.5}",
    };

    private static string Tag(ChaosKind kind) => kind.Action.GetCustomAttribute<UnionCaseAttribute>()!.Tag;

    public static TheoryData<string> Kinds() => [.. ChaosKind.All.Select(Tag)];

    [Fact]
    public void Every_kind_has_an_example() => Assert.Equal(ChaosKind.All.Select(Tag).Order(), Examples.Keys.Order());

    [Fact]
    public void Every_kind_has_a_lake_action() =>
        Assert.Equal(ChaosKind.All.Select(k => k.Action.Name).Order(), ChaosEngine.Kinds.Select(t => t.Name).Order());

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_scenario_with_the_kind_validates_plans_and_runs_on_the_lake(string kind)
    {
        var yaml = $$$"""
            run: {name: kind-{{{kind.Replace('_', '-')}}}, seed: 3, duration: 20m, observation_interval: 1m}
            cluster: {nodes: [{name: worker, count: 1, cpu: 8, memory: 16Gi}]}
            rses:
              A-DISK: {storage: dcache, quota: 10 TB}
              B-DISK: {storage: eos, quota: 10 TB}
            experiments:
              CTA: {files: 20, file_size: 1 MB, write_to: A-DISK}
            workload:
              - inject: {load: [{inject: {rate: 1, interval: 10s, during: 5m}}]}
              - replicate: {start: 1m, rule: {copies: 1, rse_expression: B-DISK}}
            daemons:
              reaper: {replicas: 2, limits: {memory: 400Mi}}
            chaos:
              - {{{kind}}}: {{{Examples[kind]}}}
            """;
        var loaded = ScenarioLoader.Parse(yaml, "kind.yaml");
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        var plan = RunPlan.Create(loaded.Scenario!);
        Assert.Contains(plan.ChaosFirings, f => f.Name == "hit");
        var sink = new FaultSink();
        EmbeddedLake.Run(loaded.Scenario!, sink);
        Assert.Contains(sink.Faults, f => f.Name == "hit" && f.Kind == kind);
    }

    private sealed class FaultSink : IObservationSink
    {
        public readonly List<FaultRecord> Faults = [];
        public void ApiLatency(IReadOnlyList<ApiLatencyRow> rows) { }
        public void Event(in HermesEvent e) { }
        public void Sample(in PodSample s) { }
        public void Lifecycle(in PodLifecycleEvent e) { }
        public void Fault(in FaultRecord f) => Faults.Add(f);
        public void Injection(in InjectionRecord r) { }
    }
}
