using FdrHarness.Core.Observations;
using FdrHarness.Core.Rucio;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Lake.Tests;

/// <summary>
/// pod_kill in the lake selects as on a cluster (Core.Chaos): its pods run in one namespace (the first of
/// target.kubernetes.namespaces, else cluster.namespace) with the rucio-daemons chart's labels.
/// </summary>
public class ChaosSelectionTests
{
    private sealed class Sink : IObservationSink
    {
        public void ApiLatency(IReadOnlyList<Core.Observations.ApiLatencyRow> rows) { }

        public readonly List<FaultRecord> Faults = [];
        public readonly List<PodLifecycleEvent> Lifecycle = [];
        public void Event(in HermesEvent e) { }
        public void Sample(in PodSample s) { }
        void IObservationSink.Lifecycle(in PodLifecycleEvent e) => Lifecycle.Add(e);
        public void Fault(in FaultRecord f) => Faults.Add(f);
        public void Injection(in InjectionRecord r) { }
        public List<PodLifecycleEvent> KilledBy(string action) => [.. Lifecycle.Where(e => e.Event == "killed" && e.Reason == "chaos:" + action)];
    }

    private static Sink Run(string selector, string mode = "mode: all", string target = "")
    {
        var yaml = $"""
            run: {'{'}name: chaos-lake, seed: 7, duration: 20m, observation_interval: 1m{'}'}
            cluster: {'{'}nodes: [{'{'}name: worker, count: 2, cpu: 8, memory: 16Gi{'}'}]{'}'}
            rses:
              A-DISK: {'{'}storage: dcache, quota: 10 TB{'}'}
            experiments:
              CTA: {'{'}files: 10, file_size: 1 MB, write_to: A-DISK{'}'}
            daemons:
              reaper: {'{'}replicas: 4{'}'}
              judge-evaluator: {'{'}replicas: 2{'}'}
            chaos:
              - pod_kill: {'{'}name: k, selector: {selector}, {mode}, schedule: {'{'}at: 10m{'}'}{'}'}
            {target}
            """;
        var loaded = ScenarioLoader.Parse(yaml, "chaos-lake.yaml");
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        var sink = new Sink();
        EmbeddedLake.Run(loaded.Scenario!, sink);
        return sink;
    }

    [Fact]
    public void A_selector_for_another_namespace_kills_nothing_in_the_lakes()
    {
        var elsewhere = Run("{daemon: reaper, namespaces: [monitoring]}");
        Assert.Empty(elsewhere.KilledBy("k"));
        Assert.Empty(elsewhere.Faults);

        // The control: the lake's own namespace (cluster.namespace, rucio by default).
        var here = Run("{daemon: reaper, namespaces: [rucio]}");
        Assert.Equal(4, here.KilledBy("k").Count);
        Assert.All(here.KilledBy("k"), e => Assert.Equal("reaper", e.Daemon));
        Assert.Single(here.Faults);
    }

    [Fact]
    public void The_lakes_namespace_is_the_first_the_target_allows()
    {
        const string target = "target: {kubernetes: {namespaces: [prod-rucio, monitoring]}}";
        Assert.Equal(4, Run("{daemon: reaper}", target: target).KilledBy("k").Count);
        Assert.Equal(4, Run("{daemon: reaper, namespaces: [prod-rucio]}", target: target).KilledBy("k").Count);
        Assert.Empty(Run("{daemon: reaper, namespaces: [rucio]}", target: target).KilledBy("k"));
        Assert.Empty(Run("{daemon: reaper, namespaces: [monitoring]}", target: target).KilledBy("k"));
    }

    [Fact]
    public void Labels_select_by_the_charts_labels_all_of_them()
    {
        // Every daemon's pods (reaper 4, judge-evaluator 2, the others one each), none of the servers'.
        var daemons = Run("{labels: {app-group: rucio-daemons, release: rucio}}").KilledBy("k");
        Assert.Equal(RucioDaemons.Daemons.Count - 2 + 6, daemons.Count);
        Assert.DoesNotContain(daemons, e => RucioDaemons.Servers.Contains(e.Daemon));
        Assert.Equal(RucioDaemons.Servers.Count, Run("{labels: {release: rucio}}").KilledBy("k").Count - daemons.Count);
        Assert.Equal(2, Run("{labels: {app: rucio-daemons-judge-evaluator}}").KilledBy("k").Count);
        Assert.Empty(Run("{daemon: reaper, labels: {release: other}}").KilledBy("k"));
    }

    [Fact]
    public void A_firing_that_selects_no_pod_is_no_fault()
    {
        // fixed-percent 10 of 4 pods: ⌊0.4⌋ = 0.
        var none = Run("{daemon: reaper}", mode: "mode: fixed-percent, value: 10");
        Assert.Empty(none.KilledBy("k"));
        Assert.Empty(none.Faults);
    }

    [Fact]
    public void Fixed_above_the_count_kills_every_pod()
    {
        var all = Run("{daemon: judge-evaluator}", mode: "mode: fixed, value: 5");
        Assert.Equal(2, all.KilledBy("k").Count);
        Assert.Equal(string.Join(",", all.KilledBy("k").Select(e => e.Pod).Order(StringComparer.Ordinal)), Assert.Single(all.Faults).Detail);
    }
}
