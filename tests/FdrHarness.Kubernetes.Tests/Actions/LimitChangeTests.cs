using System.Text.Json.Nodes;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Targeting;
using FdrHarness.Kubernetes.Tests.Fake;

namespace FdrHarness.Kubernetes.Tests.Actions;

public class LimitChangeTests
{
    private const string Deployment = "rucio-rucio-daemons-judge-evaluator";

    private static (LimitChange Change, DeploymentTarget Target) Change(string yaml = "  - limit_change: {name: squeeze, daemon: judge-evaluator, at: 1m, limits: {memory: 3Gi}, requests: {cpu: 1500m}}")
    {
        var scenario = Scenarios.Parse(yaml);
        var change = (LimitChange)scenario.Chaos[0];
        return (change, TargetResolver.Deployment(change, scenario));
    }

    private static void AddEvaluator(Harness h) =>
        h.Api.AddDaemonDeployment("rucio", "judge-evaluator", 2, requests: new() { ["cpu"] = "1", ["memory"] = "1Gi" }, limits: new() { ["cpu"] = "2" });

    private static JsonNode Resources(Harness h) => h.Api.Deployment("rucio", Deployment)["spec"]!["template"]!["spec"]!["containers"]![0]!["resources"]!;

    [Fact]
    public async Task Patch_records_the_original_first_waits_for_the_rollout_and_restore_puts_it_back()
    {
        await using var h = await Harness.StartAsync();
        AddEvaluator(h);
        var restoreFile = Path.Combine(h.Run.Path, RestoreFile.FileName);
        bool? recordedBeforePatch = null;
        h.Api.OnRequest = r => { if (r.Method == "PATCH") recordedBeforePatch ??= File.Exists(restoreFile) && File.ReadAllText(restoreFile).Contains(Deployment); };
        var podsBefore = h.Api.Pods("rucio").Select(p => (string)p["metadata"]!["name"]!).ToList();
        var enforcer = new LimitEnforcer(h.Context());
        var (change, target) = Change();

        Assert.True(await enforcer.ApplyAsync(change, target, "squeeze", CancellationToken.None));

        Assert.True(recordedBeforePatch);
        var patch = Assert.Single(h.Api.Changes);
        Assert.Equal("application/strategic-merge-patch+json; charset=utf-8", patch.ContentType);
        var body = JsonNode.Parse(patch.Body)!;
        Assert.NotNull(body["metadata"]!["resourceVersion"]);
        Assert.Equal("rucio-daemons", (string)body["spec"]!["template"]!["spec"]!["containers"]![0]!["name"]!);
        Assert.Equal("""{"requests":{"cpu":"1500m","memory":"1Gi"},"limits":{"cpu":"2","memory":"3Gi"}}""", Resources(h).ToJsonString());

        // Rolled out: new pods, each reported with limits-changed.
        var podsAfter = h.Api.Pods("rucio").Select(p => (string)p["metadata"]!["name"]!).ToList();
        Assert.Empty(podsAfter.Intersect(podsBefore));
        Assert.Equal(podsAfter.Order(), h.Sink.Lifecycle.Where(e => e.Event == "limits-changed").Select(e => e.Pod).Order());
        Assert.All(h.Sink.Lifecycle, e => Assert.Equal("chaos:squeeze requests cpu=1500m, limits memory=3Gi", e.Reason));
        var fault = Assert.Single(h.Sink.Faults);
        Assert.Equal(("squeeze", "limit_change", "judge-evaluator"), (fault.Name, fault.Kind, fault.Target));

        var entry = Assert.Single(RestoreFile.Open(h.Run.Path).Entries);
        Assert.Equal(("rucio", Deployment, "rucio-daemons"), (entry.Namespace, entry.Deployment, entry.Container));
        Assert.Equal(new Dictionary<string, string> { ["cpu"] = "2" }, entry.OriginalLimits);
        Assert.Equal(new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "1Gi" }, entry.OriginalRequests);
        Assert.Equal(new Dictionary<string, string> { ["memory"] = "3Gi" }, entry.AppliedLimits);
        Assert.NotNull(entry.PatchedAt);
        Assert.Null(entry.RestoredAt);

        Assert.Equal(1, await enforcer.RestoreAllAsync(CancellationToken.None));
        Assert.Equal("""{"requests":{"cpu":"1","memory":"1Gi"},"limits":{"cpu":"2"}}""", Resources(h).ToJsonString());
        Assert.NotNull(Assert.Single(RestoreFile.Open(h.Run.Path).Entries).RestoredAt);
        Assert.Equal(["planned", "done", "restored"], h.AuditEntries().Select(e => e.Action));

        // Idempotent: nothing left to restore, nothing sent.
        Assert.Equal(0, await enforcer.RestoreAllAsync(CancellationToken.None));
        Assert.Equal(2, h.Api.Changes.Count);
    }

    [Fact]
    public async Task Conflict_on_patch_is_reread_and_retried()
    {
        await using var h = await Harness.StartAsync();
        AddEvaluator(h);
        h.Api.ConflictsToInject = 2;
        var (change, target) = Change();

        Assert.True(await new LimitEnforcer(h.Context()).ApplyAsync(change, target, "squeeze", CancellationToken.None));

        var patches = h.Api.Changes;
        Assert.Equal(3, patches.Count);
        var versions = patches.Select(p => (string)JsonNode.Parse(p.Body)!["metadata"]!["resourceVersion"]!).ToList();
        Assert.Equal(3, versions.Distinct().Count()); // each retry carries the version it re-read
        Assert.Equal(2, h.AuditEntries().Count(e => e.Action == "retried"));
        Assert.Equal("3Gi", (string)Resources(h)["limits"]!["memory"]!);
    }

    [Fact]
    public async Task Restore_from_the_run_directory_after_a_crash_is_idempotent()
    {
        await using var h = await Harness.StartAsync();
        AddEvaluator(h);
        var (change, target) = Change();
        Assert.True(await new LimitEnforcer(h.Context()).ApplyAsync(change, target, "squeeze", CancellationToken.None));
        h.Audit.Dispose(); // the process is gone; `fdr restore` opens the run directory afresh

        var first = await ChaosRestore.RestoreRunDirectoryAsync(h.Client, h.Run.Path);
        Assert.Equal((1, 0, true), (first.Restored, first.AlreadyRestored, first.Complete));
        Assert.Equal("""{"requests":{"cpu":"1","memory":"1Gi"},"limits":{"cpu":"2"}}""", Resources(h).ToJsonString());

        var again = await ChaosRestore.RestoreRunDirectoryAsync(h.Client, h.Run.Path);
        Assert.Equal((0, 1), (again.Restored, again.AlreadyRestored));
        Assert.Equal(2, h.Api.Changes.Count);
        Assert.Equal("restored", h.AuditEntries()[^1].Action);
    }

    [Fact]
    public async Task Nothing_to_restore_in_a_run_without_limit_changes()
    {
        await using var h = await Harness.StartAsync();
        var report = await ChaosRestore.RestoreRunDirectoryAsync(h.Client, h.Run.Path);
        Assert.Equal((0, 0, true), (report.Restored, report.AlreadyRestored, report.Complete));
        Assert.Empty(h.Api.Requests);
    }

    [Fact]
    public async Task A_rollout_that_never_finishes_times_out_and_stays_restorable()
    {
        await using var h = await Harness.StartAsync();
        AddEvaluator(h);
        h.Api.StallRollouts = true;
        var (change, target) = Change();
        var enforcer = new LimitEnforcer(h.Context(rollout: new RolloutOptions { Timeout = TimeSpan.FromSeconds(30), PollInterval = TimeSpan.FromSeconds(5) }));

        // Each time the rollout wait sleeps on the clock, 5 s pass: 30 s later it gives up.
        var applied = await h.Clock.AdvancingUntil(enforcer.ApplyAsync(change, target, "squeeze", CancellationToken.None), TimeSpan.FromSeconds(5));

        Assert.False(applied);
        var failed = Assert.Single(h.AuditEntries(), e => e.Action == "failed");
        Assert.StartsWith($"rollout of rucio/{Deployment} not done within 30 s", failed.Detail);
        Assert.NotNull(Assert.Single(RestoreFile.Open(h.Run.Path).Entries).PatchedAt);
        Assert.Empty(h.Sink.Faults);
    }

    [Fact]
    public async Task A_run_that_ends_during_the_rollout_counts_the_change_it_made_and_keeps_it_restorable()
    {
        await using var h = await Harness.StartAsync();
        AddEvaluator(h);
        h.Api.StallRollouts = true;
        var (change, target) = Change();
        var enforcer = new LimitEnforcer(h.Context(rollout: new RolloutOptions { Timeout = TimeSpan.FromSeconds(30), PollInterval = TimeSpan.FromSeconds(5) }));
        using var end = new CancellationTokenSource();
        var timers = h.Clock.Timers;

        var applying = enforcer.ApplyAsync(change, target, "squeeze", end.Token);
        // The patch is in and the rollout wait sleeps on the clock: then the run ends (what a loaded machine did to the
        // end-to-end run: "0 limit changes, 1 restored").
        await h.Clock.Changes.Until(() => h.Clock.Timers > timers).WaitAsync(Conditions.FailAfter);
        await end.CancelAsync();

        Assert.True(await applying);
        var done = Assert.Single(h.AuditEntries(), e => e.Action == "done");
        Assert.EndsWith("the run ended before its rollout completed", done.Detail);
        Assert.NotNull(Assert.Single(RestoreFile.Open(h.Run.Path).Entries).PatchedAt);
        Assert.Equal("squeeze", Assert.Single(h.Sink.Faults).Name);
    }

    [Fact]
    public async Task A_missing_deployment_is_audited_as_failed()
    {
        await using var h = await Harness.StartAsync();
        var (change, target) = Change();
        Assert.False(await new LimitEnforcer(h.Context()).ApplyAsync(change, target, "squeeze", CancellationToken.None));
        Assert.Equal("no Deployment labelled app=rucio-daemons-judge-evaluator in rucio", Assert.Single(h.AuditEntries()).Detail);
        Assert.Empty(h.Api.Changes);
    }
}
