using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Targeting;
using FdrHarness.Kubernetes.Tests.Fake;

namespace FdrHarness.Kubernetes.Tests.Actions;

public class PodKillTests
{
    private static (PodKill Kill, PodTarget Target) Kill(string yaml, out Scenario scenario)
    {
        scenario = Scenarios.Parse(yaml);
        var kill = (PodKill)scenario.Chaos[0];
        return (kill, TargetResolver.Pods(kill.Selector, scenario));
    }

    [Fact]
    public async Task Kill_one_deletes_a_selected_pod_with_its_grace_period_and_records_it()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "judge-evaluator", 3);
        h.Api.AddDaemonDeployment("rucio", "reaper", 2);
        var before = h.Api.Pods("rucio").Select(p => (string)p["metadata"]!["name"]!).ToHashSet();
        var (kill, target) = Kill("  - pod_kill: {name: kill-evaluator, selector: {daemon: judge-evaluator}, grace_period: 30s, schedule: {at: 1m}}", out _);

        var outcome = await new PodKiller(h.Context()).KillAsync(kill, target, "kill-evaluator", 0, CancellationToken.None);

        var victim = Assert.Single(outcome.Killed);
        Assert.StartsWith("rucio-rucio-daemons-judge-evaluator-", victim.Name);
        var delete = Assert.Single(h.Api.Changes);
        Assert.Equal(("DELETE", $"/api/v1/namespaces/rucio/pods/{victim.Name}"), (delete.Method, delete.Path));
        Assert.Equal("30", delete.Query["gracePeriodSeconds"]);
        Assert.Contains(h.Api.Requests, r => r.Method == "GET" && r.Query.GetValueOrDefault("labelSelector") == "app-group=rucio-daemons,rucio-daemon=judge-evaluator");

        // The Deployment replaced it.
        var after = h.Api.Pods("rucio").Select(p => (string)p["metadata"]!["name"]!).ToHashSet();
        Assert.DoesNotContain(victim.Name, after);
        Assert.Equal(5, after.Count);

        var killed = Assert.Single(h.Sink.Lifecycle);
        Assert.Equal(("judge-evaluator", victim.Name, "killed", "chaos:kill-evaluator", "worker-1"), (killed.Daemon, killed.Pod, killed.Event, killed.Reason, killed.Node));
        var fault = Assert.Single(h.Sink.Faults);
        Assert.Equal(("kill-evaluator", "pod_kill", "judge-evaluator", victim.Name), (fault.Name, fault.Kind, fault.Target, fault.Detail));
        Assert.Equal(["planned", "done"], h.AuditEntries().Select(e => e.Action));
        Assert.Equal([victim.ToString()], h.AuditEntries()[1].Targets);
        Assert.Contains(victim.Name, before);
    }

    [Fact]
    public async Task Kill_all_is_capped_by_the_blast_radius_and_the_rest_is_audited_as_skipped()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "judge-evaluator", 4);
        h.Api.ReplacementsBecomeReady = false;
        var (kill, target) = Kill("  - pod_kill: {name: all-evaluators, selector: {daemon: judge-evaluator}, mode: all, schedule: {at: 1m}}", out _);
        var killer = new PodKiller(h.Context(maxUnavailable: 0.5));

        var first = await killer.KillAsync(kill, target, "all-evaluators", 0, CancellationToken.None);
        Assert.Equal(2, first.Killed.Count);
        Assert.Equal(2, first.Skipped.Count);

        // The replacements are not ready yet: two are down, so the next kill may take none.
        var second = await killer.KillAsync(kill, target, "all-evaluators", 1, CancellationToken.None);
        Assert.Empty(second.Killed);

        Assert.Equal(2, h.Api.Changes.Count);
        var skipped = h.AuditEntries().Where(e => e.Action == "skipped").ToList();
        Assert.Equal(2, skipped.Count);
        Assert.Contains("blast radius: Deployment rucio/rucio-rucio-daemons-judge-evaluator has 4 of 4 ready; max_unavailable 0.5 allows 2 down at once, so 2 of 4 kills go ahead", skipped[0].Detail);
        Assert.Contains("has 2 of 4 ready", skipped[1].Detail);
        Assert.Single(h.Sink.Faults);
    }

    [Fact]
    public async Task Fixed_percent_by_pod_names_and_a_pod_already_gone()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "reaper", 4);
        var names = h.Api.Pods("rucio").Select(p => (string)p["metadata"]!["name"]!).ToList();
        var (kill, target) = Kill($"  - pod_kill: {{name: two, selector: {{pods: [{names[0]}, {names[1]}]}}, mode: all, schedule: {{at: 1m}}}}", out _);

        var outcome = await new PodKiller(h.Context(maxUnavailable: 1)).KillAsync(kill, target, "two", 0, CancellationToken.None);

        Assert.Equal(names.Take(2).Order(), outcome.Killed.Select(p => p.Name).Order());
        Assert.Null(h.Api.Requests.First().Query.GetValueOrDefault("labelSelector"));
    }

    [Fact]
    public async Task No_matching_pod_is_audited_as_skipped()
    {
        await using var h = await Harness.StartAsync();
        var (kill, target) = Kill("  - pod_kill: {name: none, selector: {daemon: judge-evaluator}, schedule: {at: 1m}}", out _);
        var outcome = await new PodKiller(h.Context()).KillAsync(kill, target, "none", 0, CancellationToken.None);
        Assert.Empty(outcome.Killed);
        Assert.Equal("no running pod matches", Assert.Single(h.AuditEntries()).Detail);
        Assert.Empty(h.Api.Changes);
    }
}
