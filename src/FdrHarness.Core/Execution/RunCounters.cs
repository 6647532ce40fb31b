namespace FdrHarness.Core.Execution;

/// <summary>
/// The names of run.json's counters, the same whatever the target: a live run's are read back from Rucio (and the
/// cluster), the lake's from its catalog.
/// </summary>
public static class RunCounters
{
    public const string FilesPlanned = "files.planned";
    public const string FilesInjected = "files.injected";
    public const string FilesRefused = "files.refused";
    /// <summary>A live run's planned files that Rucio holds a replica of (available), read back.</summary>
    public const string FilesReplicas = "files.replicas";
    public const string RulesPlanned = "rules.planned";
    public const string RulesCreated = "rules.created";
    public const string RulesOk = "rules.ok";
    public const string RulesStuck = "rules.stuck";
    public const string RulesRetired = "rules.retired";
    public const string NoiseFiles = "noise.files";
    /// <summary>Rule lifetimes and removals, and DID lifetimes, the delete phases plan.</summary>
    public const string DeletionsPlanned = "deletions.planned";
    /// <summary>A live run's rules its delete phases remove or expire that Rucio holds as expiring (or has cleaned), read back.</summary>
    public const string DeletionsRules = "deletions.rules";
    /// <summary>A live run's DIDs its delete phases give a lifetime that Rucio holds as expiring (or has erased), read back.</summary>
    public const string DeletionsDids = "deletions.dids";
    public const string TransfersSubmitted = "transfers.submitted";
    public const string TransfersDone = "transfers.done";
    public const string TransfersFailed = "transfers.failed";
    public const string Events = "events";
    public const string OperationsFailed = "operations.failed";
    /// <summary>A live run's operations stopped while running or never started because the planned end plus the grace came first.</summary>
    public const string OperationsCutOff = "operations.cut_off";
    public const string ApiCalls = "api.calls";
    public const string ApiFailed = "api.failed";
    public const string PodsKilled = "chaos.pods_killed";
    public const string KillsHeldBack = "chaos.kills_held_back";
    public const string LimitChanges = "chaos.limit_changes";
    public const string LimitsRestored = "chaos.limits_restored";
    public const string ChaosActionsFailed = "chaos.actions_failed";
    public const string RestoreFailures = "chaos.restore_failures";
    public const string PodEvents = "pods.events";
    public const string PodSamples = "pods.samples";
    public const string WatchRelists = "pods.watch_relists";
}
