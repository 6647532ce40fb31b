using System.Text.Json.Nodes;
using FdrHarness.Kubernetes.Observation;
using FdrHarness.Kubernetes.Tests.Fake;
using k8s;

namespace FdrHarness.Kubernetes.Tests.Observation;

public class PodWatchTests
{
    /// <summary>The container was OOMKilled and restarted once; it now waits in CrashLoopBackOff.</summary>
    private static void OomKilled(JsonObject pod, int restarts = 1)
    {
        var c = pod["status"]!["containerStatuses"]![0]!;
        c["restartCount"] = restarts;
        c["ready"] = false;
        c["lastState"] = new JsonObject
        {
            ["terminated"] = new JsonObject { ["exitCode"] = 137, ["reason"] = "OOMKilled", ["startedAt"] = "2024-05-01T10:00:05Z", ["finishedAt"] = $"2024-05-01T10:1{restarts}:00Z", ["containerID"] = $"containerd://oom{restarts}" },
        };
        c["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "CrashLoopBackOff", ["message"] = "back-off 10s restarting failed container=rucio-daemons" } };
    }

    private static void Restarted(JsonObject pod)
    {
        var c = pod["status"]!["containerStatuses"]![0]!;
        c["restartCount"] = c["restartCount"]!.GetValue<int>() + 1;
    }

    private static async Task<(CancellationTokenSource Stop, Task Running, PodWatcher Watcher)> StartAsync(Harness h)
    {
        var watcher = new PodWatcher(h.Client, ["rucio"], h.Sink, h.Clock) { RetryDelay = TimeSpan.Zero };
        var stop = new CancellationTokenSource();
        var running = watcher.RunAsync(stop.Token);
        await h.When(() => WatchRequests(h).Count == 1, "first watch");
        return (stop, running, watcher);
    }

    private static List<Fake.RecordedRequest> WatchRequests(Harness h) => [.. h.Api.Requests.Where(r => r.Query.GetValueOrDefault("watch") is "true" or "1")];

    private static async Task StopAsync(CancellationTokenSource stop, Task running)
    {
        await stop.CancelAsync();
        await running;
        stop.Dispose();
    }

    [Fact]
    public async Task Watch_translates_oom_kills_crash_loops_restarts_evictions_and_deletions()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "judge-evaluator", 2);
        var pods = h.Api.Pods("rucio").Select(p => (string)p["metadata"]!["name"]!).ToList();
        var (stop, running, watcher) = await StartAsync(h);
        var watch = WatchRequests(h)[0];
        Assert.Equal("true", watch.Query["allowWatchBookmarks"]);
        Assert.False(string.IsNullOrEmpty(watch.Query["resourceVersion"]));
        Assert.Empty(h.Sink.Lifecycle); // the initial list is the baseline

        h.Api.UpdatePod("rucio", pods[0], p => OomKilled(p));
        h.Api.UpdatePod("rucio", pods[1], p =>
        {
            p["status"]!["phase"] = "Failed";
            p["status"]!["reason"] = "Evicted";
            p["status"]!["message"] = "The node was low on resource: memory.";
        });
        await h.When(() => h.Sink.Lifecycle.Count >= 4, "four lifecycle events");
        await h.Client.CoreV1.DeleteNamespacedPodAsync(pods[1], "rucio"); // the replacement is scheduled and started
        await h.When(() => h.Sink.Lifecycle.Count >= 7, "deletion and replacement");
        await StopAsync(stop, running);

        var events = h.Sink.Lifecycle.Select(e => (e.Pod == pods[0] ? "a" : e.Pod == pods[1] ? "b" : "new", e.Event, e.Reason)).ToList();
        Assert.Equal([
            ("a", "oom-killed", "OOMKilled (container rucio-daemons)"),
            ("a", "crash-loop-back-off", "back-off 10s restarting failed container=rucio-daemons"),
            ("a", "restarted", "restart count 1"),
            ("b", "killed", "Evicted: The node was low on resource: memory."),
            ("b", "deleted", null),
            ("new", "scheduled", "node worker-1"),
            ("new", "started", null),
        ], events);
        Assert.All(h.Sink.Lifecycle, e => Assert.Equal("judge-evaluator", e.Daemon));
        Assert.Equal(1, h.Sink.Lifecycle[2].Restarts);
        Assert.Equal(0, watcher.Relists);
    }

    [Fact]
    public async Task Bookmarks_move_the_resource_version_a_resumed_watch_starts_from()
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "reaper", 1);
        var (stop, running, watcher) = await StartAsync(h);

        var bookmark = h.Api.Bookmark();
        h.Api.EndWatches();
        await h.When(() => WatchRequests(h).Count == 2, "resumed watch");
        await StopAsync(stop, running);

        Assert.Equal(bookmark, WatchRequests(h)[1].Query["resourceVersion"]);
        Assert.Empty(h.Sink.Lifecycle);
        Assert.Equal((0, 0), (watcher.Relists, watcher.Errors));
    }

    [Theory]
    [InlineData(true)]   // an ERROR event with a 410 Status in the stream
    [InlineData(false)]  // the resumed watch answered HTTP 410
    public async Task Gone_relists_and_writes_what_was_missed_exactly_once(bool errorEvent)
    {
        await using var h = await Harness.StartAsync();
        h.Api.AddDaemonDeployment("rucio", "judge-evaluator", 3);
        var pods = h.Api.Pods("rucio").Select(p => (string)p["metadata"]!["name"]!).ToList();
        var (stop, running, watcher) = await StartAsync(h);

        h.Api.UpdatePod("rucio", pods[0], p => OomKilled(p));
        await h.When(() => h.Sink.Lifecycle.Count == 3, "watched OOM kill");

        // While no watch is open: pod b restarts, pod c is deleted (and replaced). Only a list can tell.
        h.Api.ExpireWatches(errorEvent, () =>
        {
            h.Api.UpdatePod("rucio", pods[1], Restarted);
            h.Api.DeletePodNow("rucio", pods[2]);
        });
        // Only the relist can tell of pod b's restart (the relist is counted before what it finds is written).
        await h.When(() => h.Sink.Lifecycle.Any(e => e.Event == "restarted" && e.Pod == pods[1]), "restart found by the relist");
        Assert.Equal(1, watcher.Relists);
        await h.When(() => h.Sink.Lifecycle.Count(e => e.Event == "started") == 1, "replacement");
        await h.When(() => WatchRequests(h).Count >= (errorEvent ? 2 : 3), "watch after the relist");
        await StopAsync(stop, running);

        var byPod = h.Sink.Lifecycle.GroupBy(e => e.Pod).ToDictionary(g => g.Key, g => g.Select(e => e.Event).ToList());
        Assert.Equal(["oom-killed", "crash-loop-back-off", "restarted"], byPod[pods[0]]);
        Assert.Equal(["restarted"], byPod[pods[1]]);
        Assert.Equal(["deleted"], byPod[pods[2]]);
        var replacement = Assert.Single(byPod, kv => !pods.Contains(kv.Key));
        Assert.Equal(["scheduled", "started"], replacement.Value);
        Assert.Equal(1, watcher.Relists);
    }
}
