namespace FdrHarness.Kubernetes.Safety;

/// <summary>
/// Never more than max_unavailable of a Deployment's pods down at once: pods already not ready count against the
/// share, and the share rounds up as a PodDisruptionBudget's percentage maxUnavailable does, so a lone pod can be
/// killed (the point of killing judge-evaluator when it runs one replica) while 0 forbids every kill.
/// </summary>
public static class BlastRadius
{
    /// <summary>How many of <paramref name="requested"/> kills may go ahead now.</summary>
    /// <param name="desired">The Deployment's spec.replicas.</param>
    /// <param name="ready">Its pods ready now (status.readyReplicas).</param>
    public static int Allowed(int desired, int ready, double maxUnavailable, int requested)
    {
        if (desired <= 0 || requested <= 0) return 0;
        var maxDown = (int)Math.Ceiling(desired * maxUnavailable - 1e-9);
        var down = Math.Max(0, desired - ready);
        return Math.Clamp(maxDown - down, 0, requested);
    }
}
