using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Safety;
using FdrHarness.Kubernetes.Tests.Fake;

namespace FdrHarness.Kubernetes.Tests.Safety;

public class SafetyTests
{
    [Fact]
    public void An_empty_allow_list_is_refused_with_what_to_write()
    {
        var scenario = Scenarios.Parse("  - pod_kill: {selector: {daemon: judge-evaluator}, schedule: {at: 1m}}", kubernetes: "{release: rucio}");
        var d = Assert.Single(NamespaceSafety.Check(scenario));
        Assert.Contains("needs target.kubernetes.namespaces", d.Message);
        Assert.Contains("kube-system is never allowed", d.Suggestion);
    }

    [Fact]
    public void Kube_system_is_refused_in_the_allow_list_and_in_a_selector()
    {
        // The scenario validator already refuses kube-system in the allow-list; this check holds on its own too.
        var parsed = Scenarios.Parse("  - pod_kill: {name: k, selector: {daemon: judge-evaluator, namespaces: [kube-system]}, schedule: {at: 1m}}");
        var scenario = parsed with { Target = parsed.Target with { Kubernetes = parsed.Target.Kubernetes! with { Namespaces = ["rucio", "kube-system"] } } };
        var messages = NamespaceSafety.Check(scenario).Select(d => d.Message).ToList();
        Assert.Equal(2, messages.Count);
        Assert.Contains(messages, m => m == "namespace 'kube-system' is always refused: the harness never touches kube-system");
        Assert.Contains(messages, m => m.StartsWith("chaos[0] (k): namespace 'kube-system' is always refused"));
    }

    [Fact]
    public void A_selector_namespace_outside_the_allow_list_is_refused_with_a_suggestion_and_its_place()
    {
        var scenario = Scenarios.Parse("  - pod_kill: {name: k, selector: {daemon: judge-evaluator, namespaces: [rucoi]}, schedule: {at: 1m}}");
        var d = Assert.Single(NamespaceSafety.Check(scenario));
        Assert.Equal("chaos[0] (k): namespace 'rucoi' is not in target.kubernetes.namespaces (rucio)", d.Message);
        Assert.Equal("did you mean 'rucio'?", d.Suggestion);
    }

    [Fact]
    public void A_sound_scenario_has_no_refusal()
    {
        var scenario = Scenarios.Parse("  - pod_kill: {selector: {daemon: judge-evaluator, namespaces: [rucio]}, schedule: {at: 1m}}");
        Assert.Empty(NamespaceSafety.Check(scenario));
    }

    [Theory]
    [InlineData(4, 4, 0.5, 4, 2)]
    [InlineData(4, 3, 0.5, 4, 1)]  // one already down counts against the share
    [InlineData(4, 2, 0.5, 1, 0)]
    [InlineData(1, 1, 0.5, 1, 1)]  // half of one pod rounds up, as a PodDisruptionBudget's percentage does
    [InlineData(1, 0, 0.5, 1, 0)]  // ...but not while it is down already
    [InlineData(1, 1, 0.0, 1, 0)]  // 0 forbids every kill
    [InlineData(3, 3, 0.5, 3, 2)]
    [InlineData(3, 3, 0.34, 3, 2)]
    [InlineData(3, 3, 0.33, 3, 1)]
    public void Blast_radius_caps_kills_by_the_share_of_ready_pods(int desired, int ready, double max, int requested, int allowed) =>
        Assert.Equal(allowed, BlastRadius.Allowed(desired, ready, max, requested));

    [Fact]
    public async Task Kill_in_kube_system_or_outside_the_allow_list_touches_nothing()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddBarePod("kube-system", "coredns-1", new() { ["k8s-app"] = "kube-dns" });
        h.Api.AddDaemonDeployment("other", "judge-evaluator", 2);
        var scenario = Scenarios.Parse("""
              - pod_kill: {name: dns, selector: {labels: {k8s-app: kube-dns}, namespaces: [kube-system]}, mode: all, schedule: {at: 1m}}
              - pod_kill: {name: elsewhere, selector: {daemon: judge-evaluator, namespaces: [other]}, mode: all, schedule: {at: 2m}}
            """.Trim('\n'), kubernetes: "{namespaces: [rucio]}");
        var executor = new ChaosExecutor(scenario, h.Context());

        await executor.RunOneAsync(scenario.Chaos[0], 0, CancellationToken.None);
        await executor.RunOneAsync(scenario.Chaos[1], 0, CancellationToken.None);

        Assert.Empty(h.Api.Requests); // not even a list
        Assert.Equal(2, executor.Counts.ActionsFailed);
        var refused = h.AuditEntries();
        Assert.Equal(["refused", "refused"], refused.Select(e => e.Action));
        Assert.Equal("namespace kube-system is always refused", refused[0].Detail);
        Assert.Equal("namespace other is not in target.kubernetes.namespaces (rucio)", refused[1].Detail);
        Assert.Single(h.Api.Pods("kube-system"));
    }

    [Fact]
    public async Task Limit_change_outside_the_allow_list_touches_nothing()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("kube-system", "judge-evaluator", 2);
        var scenario = Scenarios.Parse("  - limit_change: {daemon: judge-evaluator, at: 1m, limits: {memory: 3Gi}}", kubernetes: "{namespaces: [rucio]}");
        // An allow-list that (wrongly) holds kube-system is still refused at the call.
        var executor = new ChaosExecutor(scenario with { Target = scenario.Target with { Kubernetes = scenario.Target.Kubernetes! with { Namespaces = ["kube-system"] } } },
            h.Context(allow: ["kube-system"]));

        await executor.RunOneAsync(scenario.Chaos[0], 0, CancellationToken.None);

        Assert.Empty(h.Api.Requests);
        Assert.Equal("refused", Assert.Single(h.AuditEntries()).Action);
        Assert.False(File.Exists(Path.Combine(h.Run.Path, RestoreFile.FileName)));
    }

    [Fact]
    public async Task The_orchestrator_refuses_before_connecting()
    {
        await using var h = await Harness.StartAsync();
        var scenario = Scenarios.Parse("  - pod_kill: {selector: {daemon: judge-evaluator, namespaces: [kube-system]}, schedule: {at: 1m}}");
        var e = await Assert.ThrowsAsync<ClusterSafetyException>(() => ClusterRehearsal.RunAsync(scenario,
            new ClusterRunOptions { Sink = h.Sink, RunDirectory = h.Run.Path, Client = h.Client, Clock = h.Clock }, CancellationToken.None));
        Assert.Contains("kube-system", e.Message);
        Assert.Empty(h.Api.Requests);
    }
}
