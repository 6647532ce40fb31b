namespace FdrHarness.Core.Observations;

/// <summary>
/// A Rucio event in Hermes form: event_type plus the payload fields as columns (null where the type has none).
/// Field names follow Hermes payload keys (request-id → RequestId). Times are the target's clock: virtual on the embedded lake.
/// </summary>
public record struct HermesEvent
{
    public string EventType;          // transfer-queued, transfer-submitted, transfer-done, transfer-failed, deletion-done, RULE_OK, ...
    public DateTime CreatedAt;
    public string? Scope;
    public string? Name;
    public string? DatasetScope;
    public string? Dataset;
    public string? SrcRse;
    public string? DstRse;
    public string? Rse;               // deletion-* events
    public string? RequestId;
    public string? PreviousRequestId; // set on a retry
    public string? RuleId;
    public string? Activity;
    public long? Bytes;
    public string? ChecksumAdler;
    public string? Protocol;          // scheme of the destination (transfers) or of the deleted URL
    public double? Duration;          // seconds; -1 when unknown
    public string? Reason;
    public int? RetryCount;
    public string? TransferId;        // FTS job id
    public string? ExternalHost;      // FTS server
    public string? Account;
    public string? State;
    public double? Progress;          // RULE_PROGRESS
    public DateTime? SubmittedAt;
    public DateTime? StartedAt;
    public DateTime? TransferredAt;
}

/// <summary>One pod's resources at one observation instant.</summary>
public record struct PodSample
{
    public DateTime Time;
    public string Daemon;
    public string Pod;
    public string? Node;
    public string State;              // Running, Pending, CrashLoopBackOff, Terminated
    public double CpuCores;           // usage over the last interval
    public long MemoryBytes;          // working set
    public double? CpuRequest;
    public double? CpuLimit;
    public long? MemoryRequest;
    public long? MemoryLimit;
    public int Restarts;
    public long Backlog;              // the daemon's queue length (same for all its pods)
}

/// <summary>A change in a pod's life: scheduled, started, killed, OOMKilled, restarted, pending, CrashLoopBackOff, limits changed.</summary>
public record struct PodLifecycleEvent
{
    public DateTime Time;
    public string Daemon;
    public string Pod;
    public string? Node;
    public string Event;              // scheduled | started | killed | oom-killed | restarted | pending | crash-loop-back-off | limits-changed | deleted
    public string? Reason;            // e.g. "chaos:kill-evaluator", "memory 2.1Gi > limit 2000Mi"
    public int Restarts;
}

/// <summary>A chaos action as it happened, for marking plots and measuring recovery.</summary>
public record struct FaultRecord
{
    public DateTime Start;
    public DateTime? End;
    public string Name;
    public string Kind;               // pod_kill, limit_change, rse_outage, link_degradation
    public string Target;             // daemon, RSE or "SRC->DST"
    public string? Detail;
}

/// <summary>
/// Files injected: registered (or uploaded and registered) and confirmed by the catalog, summed per observation interval,
/// scope, DID and RSE. Rucio sends no Hermes message for a registered replica, so this is the run's only record of what
/// went in. <see cref="Name"/> is the dataset the files were attached to, or for a file registered alone (noise) the file.
/// Files refused (a full RSE, a bulk Rucio rejected) are not here: run.json counts them.
/// </summary>
public record struct InjectionRecord
{
    public DateTime Time;             // start of the interval the files were registered in
    public string Scope;
    public string Name;
    public string Rse;
    public long Files;
    public long Bytes;
}

/// <summary>Where a target writes what it observes. Implementations stream to disk; nothing is kept in memory.</summary>
public interface IObservationSink
{
    void Event(in HermesEvent e);
    void Sample(in PodSample s);
    void Lifecycle(in PodLifecycleEvent e);
    void Fault(in FaultRecord f);
    void Injection(in InjectionRecord r);

    /// <summary>A live run's call statistics, once at its end (api-latency.csv); targets without an API send none.</summary>
    void ApiLatency(IReadOnlyList<ApiLatencyRow> rows);
}
