using FdrHarness.Core.Observations;
using FdrHarness.Kubernetes.Safety;
using k8s;

namespace FdrHarness.Kubernetes.Actions;

/// <summary>How long a limit change waits for its rollout, and how often it looks.</summary>
public sealed record RolloutOptions
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>What every chaos action needs: the client, the safety rules, where to record, and the clock.</summary>
public sealed class ChaosContext
{
    public required IKubernetes Client { get; init; }
    /// <summary>target.kubernetes.namespaces; every change is checked against it right before it is sent.</summary>
    public required IReadOnlyList<string> AllowList { get; init; }
    public double MaxUnavailable { get; init; } = 0.5;
    /// <summary>target.kubernetes.owner_kinds: the owners whose pods may be killed; other pods only when named.</summary>
    public IReadOnlyList<string> OwnerKinds { get; init; } = [Core.Chaos.OwnerKinds.Deployment];
    public long Seed { get; init; }
    /// <summary>Helm release of the rucio-daemons chart, to choose among several Deployments.</summary>
    public string Release { get; init; } = "rucio";
    public required AuditLog Audit { get; init; }
    /// <summary>Receives fault records and lifecycle events; shared with other producers, so it must be synchronized.</summary>
    public required IObservationSink Sink { get; init; }
    public required RestoreFile Restore { get; init; }
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    public RolloutOptions Rollout { get; init; } = new();

    internal DateTime Now => Clock.GetUtcNow().UtcDateTime;
}
