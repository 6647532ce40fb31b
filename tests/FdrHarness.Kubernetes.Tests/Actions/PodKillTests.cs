using FdrHarness.Core.Chaos;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Targeting;
using FdrHarness.Kubernetes.Tests.Fake;

namespace FdrHarness.Kubernetes.Tests.Actions;

public class PodKillTests
{
    private const string Evaluators = "rucio-rucio-daemons-judge-evaluator";

    private static (PodKill Kill, PodMatcher Target) Kill(string yaml, out Scenario scenario)
    {
        scenario = Scenarios.Parse(yaml);
        var kill = (PodKill)scenario.Chaos[0];
        return (kill, TargetResolver.Pods(kill.Selector, scenario));
    }

    private static (PodKill Kill, PodMatcher Target) Kill(string yaml) => Kill(yaml, out _);

    private static readonly Dictionary<string, string> Core = new() { ["tier"] = "core" };

    [Fact]
    public async Task Kill_one_deletes_a_selected_pod_with_its_grace_period_and_records_it()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "judge-evaluator", 3);
        h.Api.AddDaemonDeployment("rucio", "reaper", 2);
        var before = h.Api.Pods("rucio").Select(p => (string)p["metadata"]!["name"]!).ToHashSet();
        var (kill, target) = Kill("  - pod_kill: {name: kill-evaluator, selector: {daemon: judge-evaluator}, grace_period: 30s, schedule: {at: 1m}}");

        var outcome = await new PodKiller(h.Context()).KillAsync(kill, target, "kill-evaluator", 0, CancellationToken.None);

        var victim = Assert.Single(outcome.Killed);
        Assert.StartsWith(Evaluators + "-", victim.Name);
        var delete = Assert.Single(h.Api.Changes);
        Assert.Equal(("DELETE", $"/api/v1/namespaces/rucio/pods/{victim.Name}"), (delete.Method, delete.Path));
        Assert.Equal("30", delete.Query["gracePeriodSeconds"]);
        Assert.Contains(h.Api.Requests, r => r.Method == "GET" && r.Query.GetValueOrDefault("labelSelector") == "app-group=rucio-daemons,rucio-daemon=judge-evaluator");
        // The owner was found through the pod's ReplicaSet, not guessed from its name.
        Assert.Contains(h.Api.Requests, r => r.Method == "GET" && r.Path.StartsWith("/apis/apps/v1/namespaces/rucio/replicasets/" + Evaluators + "-", StringComparison.Ordinal));

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
        Assert.Equal($"deleted with grace period 30s; Deployment rucio/{Evaluators}: 1 of 3 down (0 before, 1 deleted now); max_unavailable 0.5 allows 2",
            h.AuditEntries()[1].Detail);
        Assert.Contains(victim.Name, before);
    }

    [Fact]
    public async Task Kill_all_is_capped_by_the_blast_radius_and_the_audit_says_what_went_down()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "judge-evaluator", 4);
        h.Api.ReplacementsBecomeReady = false;
        var (kill, target) = Kill("  - pod_kill: {name: all-evaluators, selector: {daemon: judge-evaluator}, mode: all, schedule: {at: 1m}}");
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
        Assert.Equal($"blast radius: Deployment rucio/{Evaluators}: 2 of 4 down (0 before, 2 deleted now); max_unavailable 0.5 allows 2; 2 of 4 kills held back", skipped[0].Detail);
        Assert.Equal($"blast radius: Deployment rucio/{Evaluators}: 2 of 4 down (2 before, 0 deleted now); max_unavailable 0.5 allows 2; 4 of 4 kills held back", skipped[1].Detail);
        Assert.Single(h.Sink.Faults);
    }

    [Fact]
    public async Task The_share_rounds_up_and_the_audit_counts_the_pods_that_went_down()
    {
        // Three replicas at 0.5: a PodDisruptionBudget's 50 % allows ⌈1.5⌉ = 2 down, and the audit says 2, not 1.
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "judge-evaluator", 3);
        var (kill, target) = Kill("  - pod_kill: {name: all-evaluators, selector: {daemon: judge-evaluator}, mode: all, schedule: {at: 1m}}");

        var outcome = await new PodKiller(h.Context(maxUnavailable: 0.5)).KillAsync(kill, target, "all-evaluators", 0, CancellationToken.None);

        Assert.Equal((2, 1), (outcome.Killed.Count, outcome.Skipped.Count));
        Assert.Equal(2, h.Api.Changes.Count(c => c.Method == "DELETE"));
        var audit = h.AuditEntries();
        Assert.Equal(["planned", "skipped", "done"], audit.Select(e => e.Action));
        Assert.Equal($"blast radius: Deployment rucio/{Evaluators}: 2 of 3 down (0 before, 2 deleted now); max_unavailable 0.5 allows 2; 1 of 3 kills held back", audit[1].Detail);
        Assert.EndsWith("2 of 3 down (0 before, 2 deleted now); max_unavailable 0.5 allows 2", audit[2].Detail);
        Assert.Equal(2, audit[2].Targets.Count);
    }

    [Fact]
    public async Task Pods_are_grouped_by_their_real_owner_and_the_blast_radius_applies_to_each()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDeployment("rucio", "web", 2, "web", new() { ["app"] = "web" }, new(Core) { ["app"] = "web" }, new() { ["app"] = "web" });
        h.Api.AddStatefulSet("rucio", "db", 2, Core);
        h.Api.AddDaemonSet("rucio", "agent", 2, Core);
        h.Api.AddBarePod("rucio", "lonely", Core);
        var (kill, target) = Kill("  - pod_kill: {name: core, selector: {labels: {tier: core}}, mode: all, schedule: {at: 1m}}");
        var context = h.Context(maxUnavailable: 0.5, ownerKinds: [OwnerKinds.Deployment, OwnerKinds.StatefulSet, OwnerKinds.DaemonSet]);

        var outcome = await new PodKiller(context).KillAsync(kill, target, "core", 0, CancellationToken.None);

        // One of two of each owner; the bare pod is no one's and not named: never killed.
        Assert.Equal(3, outcome.Killed.Count);
        Assert.Single(outcome.Killed, p => p.Name.StartsWith("web-", StringComparison.Ordinal));
        Assert.Single(outcome.Killed, p => p.Name.StartsWith("db-", StringComparison.Ordinal));
        Assert.Single(outcome.Killed, p => p.Name.StartsWith("agent-", StringComparison.Ordinal));
        Assert.Equal(3, outcome.Skipped.Count);
        Assert.Equal([new PodRef("rucio", "lonely")], outcome.Excluded);
        var audit = h.AuditEntries();
        Assert.Equal("not killed, not owned by Deployment or StatefulSet or DaemonSet (target.kubernetes.owner_kinds): rucio/lonely is a bare pod; " +
                     "a pod named in the selector's pods may be killed whatever owns it", audit[0].Detail);
        Assert.Equal("mode all chose 6 of 6 (1 matching pod(s) not eligible)", audit[1].Detail);
        var held = audit.Where(e => e.Action == "skipped").Skip(1).Select(e => e.Detail).ToList();
        Assert.Equal([
            "blast radius: DaemonSet rucio/agent: 1 of 2 down (0 before, 1 deleted now); max_unavailable 0.5 allows 1; 1 of 2 kills held back",
            "blast radius: Deployment rucio/web: 1 of 2 down (0 before, 1 deleted now); max_unavailable 0.5 allows 1; 1 of 2 kills held back",
            "blast radius: StatefulSet rucio/db: 1 of 2 down (0 before, 1 deleted now); max_unavailable 0.5 allows 1; 1 of 2 kills held back",
        ], held);
        Assert.Contains(h.Api.Requests, r => r.Path == "/apis/apps/v1/namespaces/rucio/statefulsets/db");
        Assert.Contains(h.Api.Requests, r => r.Path == "/apis/apps/v1/namespaces/rucio/daemonsets/agent");
    }

    [Fact]
    public async Task A_pod_without_an_allowed_owner_is_never_killed()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddStatefulSet("rucio", "db", 1, Core);          // a StatefulSet's only pod
        h.Api.AddBarePod("rucio", "lonely", Core);              // nobody's
        h.Api.AddOwnedPods("Job", "rucio", "backup", 1, Core);  // a Job's
        // A ReplicaSet named like a Deployment's, labelled like judge-evaluator, but owned by no Deployment.
        h.Api.AddReplicaSet("rucio", Evaluators + "-7d9f8b6c5", 2, new(Core) { ["app-group"] = "rucio-daemons", ["rucio-daemon"] = "judge-evaluator" });
        var (kill, target) = Kill("  - pod_kill: {name: core, selector: {labels: {tier: core}}, mode: all, schedule: {at: 1m}}");

        var outcome = await new PodKiller(h.Context(maxUnavailable: 1)).KillAsync(kill, target, "core", 0, CancellationToken.None);

        Assert.Empty(outcome.Killed);
        Assert.Equal(5, outcome.Excluded.Count);
        Assert.DoesNotContain(h.Api.Requests, r => r.Method == "DELETE");
        Assert.Empty(h.Sink.Faults);
        var entry = Assert.Single(h.AuditEntries());
        Assert.Equal("skipped", entry.Action);
        Assert.StartsWith("not killed, not owned by Deployment (target.kubernetes.owner_kinds): ", entry.Detail);
        Assert.Contains("rucio/db-0 belongs to StatefulSet rucio/db", entry.Detail);
        Assert.Contains("rucio/lonely is a bare pod", entry.Detail);
        Assert.Contains("belongs to Job rucio/backup", entry.Detail);
        Assert.Contains($"belongs to ReplicaSet rucio/{Evaluators}-7d9f8b6c5", entry.Detail);
    }

    [Fact]
    public async Task A_pod_named_in_pods_is_killed_whatever_owns_it_within_its_own_group()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddStatefulSet("rucio", "db", 1, Core);
        h.Api.AddBarePod("rucio", "lonely", Core);
        h.Api.AddBarePod("rucio", "other", Core);
        var (kill, target) = Kill("  - pod_kill: {name: named, selector: {pods: [db-0, lonely]}, mode: all, schedule: {at: 1m}}");

        var outcome = await new PodKiller(h.Context(maxUnavailable: 0.5)).KillAsync(kill, target, "named", 0, CancellationToken.None);

        // Each is a group of one, and ⌈0.5⌉ = 1 of one may go.
        Assert.Equal(["db-0", "lonely"], outcome.Killed.Select(p => p.Name).Order());
        Assert.Empty(outcome.Excluded);
        var done = Assert.Single(h.AuditEntries(), e => e.Action == "done");
        Assert.Equal("deleted with grace period 0s; bare pod rucio/lonely: 1 of 1 down (0 before, 1 deleted now); max_unavailable 0.5 allows 1; " +
                     "StatefulSet rucio/db: 1 of 1 down (0 before, 1 deleted now); max_unavailable 0.5 allows 1", done.Detail);
    }

    [Fact]
    public async Task An_owner_that_cannot_be_read_keeps_its_pods_alive()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "reaper", 2);
        h.Api.ForbiddenResources.Add("replicasets");
        var (kill, target) = Kill("  - pod_kill: {name: k, selector: {daemon: reaper}, mode: all, schedule: {at: 1m}}");

        var outcome = await new PodKiller(h.Context(maxUnavailable: 1)).KillAsync(kill, target, "k", 0, CancellationToken.None);

        Assert.Empty(outcome.Killed);
        Assert.Equal(2, outcome.Excluded.Count);
        Assert.DoesNotContain(h.Api.Requests, r => r.Method == "DELETE");
        Assert.Contains("owner unknown (reading ReplicaSet rucio/rucio-rucio-daemons-reaper-", Assert.Single(h.AuditEntries()).Detail);
        Assert.Contains("403", h.AuditEntries()[0].Detail);
    }

    [Fact]
    public async Task Pods_listed_by_the_server_are_matched_again_by_the_selectors_own_rule()
    {
        // A server that ignores the labelSelector lists every pod: only those carrying every label are candidates.
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "reaper", 2);
        h.Api.AddDaemonDeployment("rucio", "judge-evaluator", 2);
        h.Api.IgnoreLabelSelectors = true;
        var (kill, target) = Kill("  - pod_kill: {name: k, selector: {daemon: reaper}, mode: all, schedule: {at: 1m}}");

        var outcome = await new PodKiller(h.Context(maxUnavailable: 1)).KillAsync(kill, target, "k", 0, CancellationToken.None);

        Assert.Equal(2, outcome.Killed.Count);
        Assert.All(outcome.Killed, p => Assert.StartsWith("rucio-rucio-daemons-reaper-", p.Name));
    }

    [Fact]
    public async Task Fixed_percent_by_pod_names()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "reaper", 4);
        var names = h.Api.Pods("rucio").Select(p => (string)p["metadata"]!["name"]!).ToList();
        var (kill, target) = Kill($"  - pod_kill: {{name: two, selector: {{pods: [{names[0]}, {names[1]}]}}, mode: fixed-percent, value: 100, schedule: {{at: 1m}}}}");

        var outcome = await new PodKiller(h.Context(maxUnavailable: 1)).KillAsync(kill, target, "two", 0, CancellationToken.None);

        Assert.Equal(names.Take(2).Order(), outcome.Killed.Select(p => p.Name).Order());
        Assert.Null(h.Api.Requests.First().Query.GetValueOrDefault("labelSelector"));
    }

    [Fact]
    public async Task No_matching_pod_is_audited_as_skipped_and_is_no_fault()
    {
        await using var h = await Harness.StartAsync();
        var (kill, target) = Kill("  - pod_kill: {name: none, selector: {daemon: judge-evaluator}, schedule: {at: 1m}}");
        var outcome = await new PodKiller(h.Context()).KillAsync(kill, target, "none", 0, CancellationToken.None);
        Assert.Empty(outcome.Killed);
        Assert.Equal("no running pod matches", Assert.Single(h.AuditEntries()).Detail);
        Assert.Empty(h.Api.Changes);
        Assert.Empty(h.Sink.Faults);
    }

    [Fact]
    public async Task A_firing_whose_mode_selects_none_is_planned_with_zero_and_is_no_fault()
    {
        // fixed-percent 40 of 2 pods is ⌊0.8⌋ = 0, as in Chaos Mesh.
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "reaper", 2);
        var (kill, target) = Kill("  - pod_kill: {name: few, selector: {daemon: reaper}, mode: fixed-percent, value: 40, schedule: {at: 1m}}");

        var outcome = await new PodKiller(h.Context(maxUnavailable: 1)).KillAsync(kill, target, "few", 0, CancellationToken.None);

        Assert.Empty(outcome.Killed);
        Assert.Equal("mode fixed-percent 40% chose 0 of 2", Assert.Single(h.AuditEntries()).Detail);
        Assert.Empty(h.Sink.Faults);
        Assert.Empty(h.Api.Changes);
    }
}
