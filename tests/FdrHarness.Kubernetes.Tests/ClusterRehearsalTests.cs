using System.Text.Json.Nodes;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Observation;
using FdrHarness.Kubernetes.Tests.Fake;

namespace FdrHarness.Kubernetes.Tests;

public class ClusterRehearsalTests
{
    private const string Chaos = """
          - pod_kill: {name: kill-reaper, selector: {daemon: reaper}, mode: one, schedule: {at: 1m}}
          - limit_change: {name: squeeze, daemon: judge-evaluator, at: 2m, limits: {memory: 3Gi}}
          - rse_outage: {name: outage, rse: A-DISK, from: 3m, during: 1m}
        """;

    [Fact]
    public async Task Cancelled_run_still_restores_the_limits_it_changed()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "judge-evaluator", 2, limits: new() { ["memory"] = "2000Mi" });
        h.Api.AddDaemonDeployment("rucio", "reaper", 2);
        var scenario = Scenarios.Parse(Chaos.Trim('\n'), kubernetes: "{namespaces: [rucio], max_unavailable: 0.5}");
        using var cancel = new CancellationTokenSource();
        var options = new ClusterRunOptions
        {
            Sink = h.Sink, RunDirectory = h.Run.Path, Client = h.Client, Clock = h.Clock, Start = h.Clock.GetUtcNow(),
            UsageSources = [new MetricsServerUsage(h.Client)],
            Rollout = new RolloutOptions { Timeout = TimeSpan.FromSeconds(30), PollInterval = TimeSpan.FromSeconds(1) },
        };

        var run = ClusterRehearsal.RunAsync(scenario, options, cancel.Token);
        // Started: watching, and the first samples (4 pods at 0s) written.
        await h.When(() => h.Api.Requests.Any(r => r.Query.GetValueOrDefault("watch") == "true") && h.Sink.Samples.Count >= 4, "watch and first samples");
        // The kill at 1m, then the patch at 2m (the fake rolls out at once), then Ctrl-C. Each step awaits what it
        // caused; a lane that reads the clock after an advance finds its time passed and acts at once.
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        await h.When(() => h.Sink.Faults.Any(f => f.Name == "kill-reaper"), "kill at 1m");
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        await h.When(() => h.Sink.Faults.Any(f => f.Name == "squeeze"), "limit change at 2m");
        Assert.Equal(1, h.Api.Changes.Count(c => c.Method == "PATCH"));
        Assert.Contains(h.AuditEntries(), e => e is { Kind: "limit_change", Action: "done" });
        Assert.Equal("3Gi", (string)h.Api.Deployment("rucio", "rucio-rucio-daemons-judge-evaluator")["spec"]!["template"]!["spec"]!["containers"]![0]!["resources"]!["limits"]!["memory"]!);
        await cancel.CancelAsync();
        var summary = await run;

        Assert.True(summary.Interrupted);
        Assert.Equal((1, 1, 1, 0), (summary.Chaos.PodsKilled, summary.Chaos.LimitChanges, summary.LimitsRestored, summary.RestoreFailures));
        Assert.Equal(1, summary.Chaos.NotApplied);
        Assert.Equal("v1.31.0-fake", summary.ServerVersion);
        Assert.True(summary.Samples >= 4, $"{summary.Samples} samples"); // 4 pods at 0s, 30s, ...
        Assert.Equal("2000Mi", (string)h.Api.Deployment("rucio", "rucio-rucio-daemons-judge-evaluator")["spec"]!["template"]!["spec"]!["containers"]![0]!["resources"]!["limits"]!["memory"]!);
        Assert.Equal(
            ["skipped", "planned", "done", "planned", "done", "restored"],
            h.AuditEntries().Select(e => e.Action));
        Assert.Equal("not a cluster action: not applied on a live target", h.AuditEntries()[0].Detail);
        Assert.Equal(["kill-reaper", "squeeze"], h.Sink.Faults.Select(f => f.Name));
        Assert.Contains(h.Sink.Lifecycle, e => e is { Event: "killed", Daemon: "reaper" });
        Assert.Contains(h.Sink.Lifecycle, e => e is { Event: "deleted", Daemon: "reaper" }); // seen by the watch
        Assert.NotEmpty(summary.Counters());
    }

    [Fact]
    public async Task A_kill_due_before_the_end_still_happens_when_the_clock_reaches_the_end_first()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "reaper", 2);
        var scenario = Scenarios.Parse("""
              - pod_kill: {name: kill-reaper, selector: {daemon: reaper}, mode: one, schedule: {at: 1m}}
            """.Trim('\n'), duration: "2m");
        var options = new ClusterRunOptions
        {
            Sink = h.Sink, RunDirectory = h.Run.Path, Client = h.Client, Clock = h.Clock, Start = h.Clock.GetUtcNow(),
            UsageSources = [new MetricsServerUsage(h.Client)],
        };

        var run = ClusterRehearsal.RunAsync(scenario, options, CancellationToken.None);
        await h.When(() => h.Api.Requests.Any(r => r.Query.GetValueOrDefault("watch") == "true"), "watching");
        // A loaded machine: the kill's instant and the end pass in one step, and the end is seen as soon as the kill.
        h.Clock.Advance(TimeSpan.FromMinutes(3));
        var summary = await run;

        Assert.False(summary.Interrupted);
        Assert.Equal(1, summary.Chaos.PodsKilled);
        Assert.Contains(h.Api.Changes, c => c.Method == "DELETE" && c.Path.Contains("/pods/rucio-rucio-daemons-reaper", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_slow_rollout_does_not_hold_back_a_later_kill()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "judge-evaluator", 2, limits: new() { ["memory"] = "2000Mi" });
        h.Api.AddDaemonDeployment("rucio", "reaper", 2);
        h.Api.StallRollouts = true; // the squeeze's rollout waits its full 10 minutes
        var scenario = Scenarios.Parse("""
              - limit_change: {name: squeeze, daemon: judge-evaluator, at: 1m, limits: {memory: 3Gi}}
              - pod_kill: {name: kill-reaper, selector: {daemon: reaper}, mode: one, schedule: {at: 2m}}
            """.Trim('\n'));
        var executor = new ChaosExecutor(scenario, h.Context(rollout: new RolloutOptions { Timeout = TimeSpan.FromMinutes(10), PollInterval = TimeSpan.FromSeconds(5) }));
        using var cancel = new CancellationTokenSource();
        var start = h.Clock.GetUtcNow();

        var running = executor.RunAsync(start, cancel.Token);
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        await h.When(() => h.Api.Changes.Any(c => c.Method == "PATCH"), "patch at 1m");
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        await h.When(() => h.Sink.Faults.Any(f => f.Name == "kill-reaper"), "kill at 2m");

        // The kill came at 2m while the rollout of 1m was still waited for (it would time out at 11m).
        Assert.Contains(h.Api.Changes, c => c.Method == "DELETE" && c.Path.Contains("/pods/rucio-rucio-daemons-reaper", StringComparison.Ordinal));
        Assert.Equal(start + TimeSpan.FromMinutes(2), new DateTimeOffset(Assert.Single(h.Sink.Faults).Start));
        Assert.DoesNotContain(h.AuditEntries(), e => e is { Kind: "limit_change", Action: "done" or "failed" });
        await cancel.CancelAsync();
        await running;
        // The run ended during the rollout: the patch is in, so the change counts, and the audit says its rollout was cut short.
        Assert.Equal((1, 1), (executor.Counts.LimitChanges, executor.Counts.PodsKilled));
        Assert.EndsWith("the run ended before its rollout completed", Assert.Single(h.AuditEntries(), e => e is { Kind: "limit_change", Action: "done" }).Detail);
    }

    [Fact]
    public async Task Unreachable_server_is_reported_before_anything_runs()
    {
        await using var h = await Harness.StartAsync();
        var url = h.Api.Url;
        await h.Api.DisposeAsync(); // nobody listens any more
        using var client = ClusterConnector(url);
        var scenario = Scenarios.Parse(Chaos.Trim('\n'));
        var e = await Assert.ThrowsAsync<Kubernetes.Connection.ClusterUnreachableException>(() => ClusterRehearsal.RunAsync(scenario,
            new ClusterRunOptions { Sink = h.Sink, RunDirectory = h.Run.Path, Client = client, Clock = h.Clock }, CancellationToken.None));
        Assert.Equal("connection refused", e.Reason);
        Assert.Empty(h.Sink.Lifecycle);
        Assert.Empty(h.AuditEntries());
    }

    private static k8s.IKubernetes ClusterConnector(Uri url) => Kubernetes.Connection.ClusterConnector.Create(url);
}
