using k8s;
using k8s.Models;

namespace FdrHarness.Kubernetes.Actions;

/// <summary>Waits for a Deployment's rollout as `kubectl rollout status` does.</summary>
internal static class Rollout
{
    /// <summary>
    /// Done when the controller has seen <paramref name="generation"/> (observedGeneration), every replica runs the
    /// new template (updatedReplicas), no old pod is left (replicas) and all are available (availableReplicas).
    /// </summary>
    public static bool IsComplete(V1Deployment d, long generation)
    {
        var want = d.Spec?.Replicas ?? 1;
        var s = d.Status;
        return s is not null
               && (s.ObservedGeneration ?? 0) >= generation
               && (s.UpdatedReplicas ?? 0) >= want
               && (s.Replicas ?? 0) <= want
               && (s.AvailableReplicas ?? 0) >= want;
    }

    /// <exception cref="TimeoutException">The rollout did not complete within the timeout.</exception>
    public static async Task WaitAsync(IKubernetes client, string ns, string name, long generation, RolloutOptions options, TimeProvider clock, CancellationToken ct)
    {
        var deadline = clock.GetUtcNow() + options.Timeout;
        while (true)
        {
            var d = await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: ct).ConfigureAwait(false);
            if (IsComplete(d, generation)) return;
            if (clock.GetUtcNow() >= deadline)
            {
                var s = d.Status;
                throw new TimeoutException(
                    $"rollout of {ns}/{name} not done within {options.Timeout.TotalSeconds:0} s " +
                    $"(generation {generation}, observed {s?.ObservedGeneration ?? 0}, updated {s?.UpdatedReplicas ?? 0}, " +
                    $"available {s?.AvailableReplicas ?? 0} of {d.Spec?.Replicas ?? 1})");
            }
            await Task.Delay(options.PollInterval, clock, ct).ConfigureAwait(false);
        }
    }
}
