using FdrHarness.Core.Observations;
using FdrHarness.Core.Rucio;
using FdrHarness.Kubernetes.Actions;
using k8s.Models;

namespace FdrHarness.Kubernetes.Observation;

/// <summary>What the lifecycle translation remembers of a pod between two sightings.</summary>
public sealed record PodSnapshot
{
    public string Namespace { get; init; } = "";
    public string Name { get; init; } = "";
    public string Daemon { get; init; } = "";
    public string? Node { get; init; }
    public string Phase { get; init; } = "Pending";
    public int Restarts { get; init; }
    public string? Unschedulable { get; init; }
    public string? CrashLoop { get; init; }
    public string? Evicted { get; init; }
    /// <summary>Every OOMKilled termination seen (container and finish time), so that each is reported once.</summary>
    public IReadOnlySet<string> OomKills { get; init; } = new HashSet<string>();

    /// <summary>A pod not seen before: nothing has happened to it yet.</summary>
    public static PodSnapshot Unseen(PodSnapshot like) => new() { Namespace = like.Namespace, Name = like.Name, Daemon = like.Daemon };
}

/// <summary>
/// Turns two sightings of a pod into the lake's lifecycle words: scheduled, pending, started, oom-killed,
/// crash-loop-back-off, restarted, and an eviction as killed with reason 'Evicted: …'. Pure, so a relist after
/// 410 Gone that sees what the watch already saw writes nothing twice.
/// </summary>
public static class PodLifecycleTranslator
{
    public static PodSnapshot Snapshot(V1Pod pod)
    {
        var status = pod.Status;
        var containers = status?.ContainerStatuses ?? [];
        var oom = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in containers)
        {
            foreach (var t in new[] { c.State?.Terminated, c.LastState?.Terminated })
                if (t is { Reason: "OOMKilled" })
                    oom.Add($"{c.Name}@{t.FinishedAt?.ToUniversalTime():O}|{t.ContainerID}");
        }
        var unschedulable = status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable");
        var crash = containers.Select(c => c.State?.Waiting).FirstOrDefault(w => w?.Reason == "CrashLoopBackOff");
        return new PodSnapshot
        {
            Namespace = pod.Metadata.NamespaceProperty ?? "",
            Name = pod.Metadata.Name,
            Daemon = ChartLabels.DaemonOf(pod.Metadata.Labels, pod.Metadata.Name),
            Node = string.IsNullOrEmpty(pod.Spec?.NodeName) ? null : pod.Spec.NodeName,
            Phase = status?.Phase ?? "Pending",
            Restarts = PodFacts.Restarts(pod),
            Unschedulable = unschedulable is null ? null : unschedulable.Message ?? "Unschedulable",
            CrashLoop = crash is null ? null : crash.Message ?? "CrashLoopBackOff",
            Evicted = status?.Reason == "Evicted" ? "Evicted" + (string.IsNullOrEmpty(status.Message) ? "" : ": " + status.Message) : null,
            OomKills = oom,
        };
    }

    /// <summary>The lifecycle events between two sightings, in the order they happen in a pod's life.</summary>
    public static IReadOnlyList<(string Event, string? Reason)> Changes(PodSnapshot before, PodSnapshot after)
    {
        var events = new List<(string, string?)>();
        if (before.Node is null && after.Node is not null) events.Add((LifecycleEvents.Scheduled, "node " + after.Node));
        if (after.Unschedulable is not null && before.Unschedulable is null) events.Add((LifecycleEvents.Pending, after.Unschedulable));
        if (after.Phase == "Running" && before.Phase != "Running" && before.Restarts == after.Restarts) events.Add((LifecycleEvents.Started, null));
        foreach (var kill in after.OomKills.Where(k => !before.OomKills.Contains(k)).Order(StringComparer.Ordinal))
            events.Add((LifecycleEvents.OomKilled, $"OOMKilled (container {kill[..kill.IndexOf('@')]})"));
        if (after.CrashLoop is not null && before.CrashLoop is null) events.Add((LifecycleEvents.CrashLoopBackOff, after.CrashLoop));
        // One event per restart, as the lake counts them; a watch never misses more than a few.
        for (var r = before.Restarts; r < after.Restarts && r - before.Restarts < 100; r++)
            events.Add((LifecycleEvents.Restarted, $"restart count {r + 1}"));
        if (after.Evicted is not null && before.Evicted is null) events.Add((LifecycleEvents.Killed, after.Evicted));
        return events;
    }
}
