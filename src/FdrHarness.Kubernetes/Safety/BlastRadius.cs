using System.Globalization;

namespace FdrHarness.Kubernetes.Safety;

/// <summary>
/// Never more than max_unavailable of an owner's pods (a Deployment's, a StatefulSet's, ...) down at once: pods
/// already not ready count against the share, and the share rounds up as a PodDisruptionBudget's percentage
/// maxUnavailable does, so a lone pod can be killed (the point of killing judge-evaluator when it runs one replica)
/// while 0 forbids every kill.
/// </summary>
public static class BlastRadius
{
    /// <summary>How many of <paramref name="desired"/> pods may be down at once.</summary>
    public static int MaxDown(int desired, double maxUnavailable) =>
        desired <= 0 ? 0 : (int)Math.Ceiling(desired * maxUnavailable - 1e-9);

    /// <summary>How many of <paramref name="requested"/> kills may go ahead now.</summary>
    /// <param name="desired">The owner's desired pods (spec.replicas; a DaemonSet's desiredNumberScheduled; 1 for a bare pod).</param>
    /// <param name="ready">Its pods ready now (status.readyReplicas, numberReady).</param>
    public static int Allowed(int desired, int ready, double maxUnavailable, int requested)
    {
        if (desired <= 0 || requested <= 0) return 0;
        var down = Math.Max(0, desired - ready);
        return Math.Clamp(MaxDown(desired, maxUnavailable) - down, 0, requested);
    }

    /// <summary>What went down, in numbers: "2 of 4 down (0 before, 2 deleted now); max_unavailable 0.5 allows 2".</summary>
    public static string Describe(int desired, int ready, double maxUnavailable, int deleted)
    {
        var before = Math.Max(0, desired - ready);
        return $"{before + deleted} of {desired} down ({before} before, {deleted} deleted now); " +
               $"max_unavailable {maxUnavailable.ToString("0.##", CultureInfo.InvariantCulture)} allows {MaxDown(desired, maxUnavailable)}";
    }
}
