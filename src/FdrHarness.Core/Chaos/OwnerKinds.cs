namespace FdrHarness.Core.Chaos;

/// <summary>The controllers whose pods chaos may be allowed to kill (target.kubernetes.owner_kinds), in Kubernetes' words.</summary>
public static class OwnerKinds
{
    public const string Deployment = "Deployment";
    public const string StatefulSet = "StatefulSet";
    public const string DaemonSet = "DaemonSet";
    /// <summary>A ReplicaSet no Deployment owns.</summary>
    public const string ReplicaSet = "ReplicaSet";

    public static readonly IReadOnlyList<string> All = [Deployment, StatefulSet, DaemonSet, ReplicaSet];
}
