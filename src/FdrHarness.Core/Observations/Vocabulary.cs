namespace FdrHarness.Core.Observations;

/// <summary>
/// events.parquet's event types: Hermes's own (lower case, as hermes sends them; both targets write these) and the
/// lake's transfer-queued and transfer-lost, which Rucio has no message for.
/// </summary>
public static class EventTypes
{
    public const string TransferQueued = "transfer-queued";
    public const string TransferSubmitted = "transfer-submitted";
    public const string TransferDone = "transfer-done";
    public const string TransferFailed = "transfer-failed";
    public const string TransferSubmissionFailed = "transfer-submission_failed";
    public const string TransferLost = "transfer-lost";
    public const string DeletionDone = "deletion-done";
}

/// <summary>lifecycle.parquet's pod events, in Kubernetes' words (a pod's phase, its container's state and reason).</summary>
public static class LifecycleEvents
{
    public const string Pending = "pending";
    public const string Scheduled = "scheduled";
    public const string Started = "started";
    public const string OomKilled = "oom-killed";
    public const string CrashLoopBackOff = "crash-loop-back-off";
    public const string Restarted = "restarted";
    public const string Killed = "killed";
    public const string Deleted = "deleted";
    public const string LimitsChanged = "limits-changed";
}

/// <summary>faults.parquet's and the audit's kinds: the scenario's chaos keys.</summary>
public static class ChaosKinds
{
    public const string PodKill = "pod_kill";
    public const string LimitChange = "limit_change";
    public const string RseOutage = "rse_outage";
    public const string LinkDegradation = "link_degradation";
}
