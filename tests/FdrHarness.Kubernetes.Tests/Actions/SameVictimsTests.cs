using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Targeting;
using FdrHarness.Kubernetes.Tests.Fake;
using FdrHarness.Lake;

namespace FdrHarness.Kubernetes.Tests.Actions;

/// <summary>
/// One scenario, one seed: the embedded lake and a cluster whose pods are the lake's (same names, same chart labels)
/// kill the same pods, because both choose with Core.Chaos from the same candidates and the same draw key.
/// </summary>
public class SameVictimsTests
{
    private static Scenario LakeScenario(long seed, string mode)
    {
        var loaded = ScenarioLoader.Parse($$$"""
            run: {name: same-victims, seed: {{{seed}}}, duration: 20m, observation_interval: 1m}
            cluster: {nodes: [{name: worker, count: 2, cpu: 8, memory: 16Gi}]}
            rses:
              A-DISK: {storage: dcache, quota: 10 TB}
            experiments:
              CTA: {files: 10, file_size: 1 MB, write_to: A-DISK}
            daemons:
              reaper: {replicas: 6}
            chaos:
              - pod_kill: {name: kill-reaper, selector: {daemon: reaper}, {{{mode}}}, schedule: {at: 10m}}
            """, "same-victims.yaml");
        Assert.True(loaded.Ok, string.Join("\n", loaded.Diagnostics));
        return loaded.Scenario!;
    }

    [Theory]
    [InlineData("mode: fixed, value: 2")]
    [InlineData("mode: random-max-percent, value: 100")]
    [InlineData("mode: one")]
    public async Task The_lake_and_a_cluster_kill_the_same_pods_for_the_same_seed(string mode)
    {
        var choices = new List<string>();
        foreach (var seed in new long[] { 1, 2, 3, 5, 2020 })
        {
            var scenario = LakeScenario(seed, mode);
            var lakeSink = new RecordingSink();
            EmbeddedLake.Run(scenario, lakeSink);
            var killed = lakeSink.Lifecycle.Where(e => e.Event == "killed" && e.Reason == "chaos:kill-reaper").ToList();
            var fireTime = lakeSink.Lifecycle.First(e => e.Daemon == "reaper").Time + TimeSpan.FromMinutes(10);
            // The lake's candidates: its reaper pods alive at the firing.
            var candidates = lakeSink.Lifecycle.Where(e => e.Daemon == "reaper" && e.Time < fireTime && e.Event is "pending" or "scheduled")
                .Select(e => e.Pod).Distinct()
                .Except(lakeSink.Lifecycle.Where(e => e.Time < fireTime && e.Event == "deleted").Select(e => e.Pod))
                .ToList();
            Assert.Equal(6, candidates.Count);

            await using var h = await Harness.StartAsync();
            h.Api.AddDaemonDeployment("rucio", "reaper", candidates.Count, podNames: candidates);
            var kill = (PodKill)scenario.Chaos[0];
            var outcome = await new PodKiller(h.Context(maxUnavailable: 1, seed: seed))
                .KillAsync(kill, TargetResolver.Pods(kill.Selector, scenario), "kill-reaper", 0, CancellationToken.None);

            Assert.Equal(killed.Select(e => e.Pod).Order(StringComparer.Ordinal), outcome.Killed.Select(p => p.Name).Order(StringComparer.Ordinal));
            if (killed.Count > 0) Assert.Equal(fireTime, Assert.Single(lakeSink.Faults).Start);
            else Assert.Empty(lakeSink.Faults);
            choices.Add(string.Join(",", outcome.Killed.Select(p => p.Name)));
        }
        // The check can fail: the seeds choose differently.
        Assert.True(choices.Distinct().Count() >= 3, string.Join(" | ", choices));
    }
}
