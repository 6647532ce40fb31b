using FdrHarness.Kubernetes.Observation;

namespace FdrHarness.Kubernetes.Tests.Observation;

public class TranslatorTests
{
    private static readonly PodSnapshot Running = new() { Namespace = "rucio", Name = "p", Daemon = "reaper", Node = "n1", Phase = "Running" };

    [Fact]
    public void An_unschedulable_pod_is_pending_once()
    {
        var pending = Running with { Node = null, Phase = "Pending", Unschedulable = "0/3 nodes are available: 3 Insufficient memory." };
        Assert.Equal([("pending", "0/3 nodes are available: 3 Insufficient memory.")], PodLifecycleTranslator.Changes(PodSnapshot.Unseen(pending), pending));
        Assert.Empty(PodLifecycleTranslator.Changes(pending, pending));
    }

    [Fact]
    public void A_restart_without_oom_is_a_restart_and_the_same_sighting_twice_is_nothing()
    {
        var restarted = Running with { Restarts = 2 };
        Assert.Equal([("restarted", "restart count 1"), ("restarted", "restart count 2")], PodLifecycleTranslator.Changes(Running, restarted));
        Assert.Empty(PodLifecycleTranslator.Changes(restarted, restarted));
    }

    [Fact]
    public void An_oom_kill_seen_in_state_then_in_last_state_is_reported_once()
    {
        var dying = Running with { OomKills = new HashSet<string> { "c@t1|id1" } };
        var back = dying with { Restarts = 1 };
        Assert.Equal([("oom-killed", "OOMKilled (container c)")], PodLifecycleTranslator.Changes(Running, dying));
        Assert.Equal([("restarted", "restart count 1")], PodLifecycleTranslator.Changes(dying, back));
    }
}
