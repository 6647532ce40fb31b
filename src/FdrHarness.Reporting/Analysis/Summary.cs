using FdrHarness.Core.Observations;
namespace FdrHarness.Reporting.Analysis;

/// <summary>
/// Every figure of a rehearsal report, computed once from the observation files; the exporters only format it.
/// Serialised as summary.json (snake_case keys, <see cref="SchemaVersion"/>): add keys freely, rename none without
/// bumping the version, since the CI gate reads them.
/// </summary>
public sealed record Summary
{
    public const int CurrentSchemaVersion = 1;
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;
    public required RunFacts Run { get; init; }
    public required TransferTotals Transfers { get; init; }
    public required EventStats Events { get; init; }
    /// <summary>Files that went in (injections.parquet); null for a run that did not record them (written before the file existed).</summary>
    public InjectionTotals? Injected { get; init; }
    public required IReadOnlyList<ExperimentStats> Experiments { get; init; }
    public required IReadOnlyList<RseUsage> Rses { get; init; }
    public required TransferMatrix TransferMatrix { get; init; }
    public required RuleCompletion Rules { get; init; }
    public required OverTime OverTime { get; init; }
    public required IReadOnlyList<ResourceUsage> Resources { get; init; }
    public required Takeaway Takeaway { get; init; }
    public required IReadOnlyList<FaultRecovery> Faults { get; init; }
    public required IReadOnlyList<PodIncident> Incidents { get; init; }

    /// <summary>Live runs only: the harness's own calls to Rucio (empty on the embedded lake).</summary>
    public IReadOnlyList<ApiLatencyRow> ApiLatency { get; init; } = [];
}

/// <summary>What run, over which observed time span (the target's clock: virtual on the embedded lake, never the report's).</summary>
public sealed record RunFacts
{
    public string Scenario { get; init; } = "";
    public long? Seed { get; init; }
    public string Target { get; init; } = "";
    public double? Scale { get; init; }
    public required DateTime Start { get; init; }
    public required DateTime End { get; init; }
    public double DurationSeconds => Math.Round((End - Start).TotalSeconds, 3);
}

public sealed record TransferTotals
{
    public long Queued { get; init; }
    public long Submitted { get; init; }
    public long Done { get; init; }
    public long Failed { get; init; }
    public long SubmissionFailed { get; init; }
    public long Lost { get; init; }
    /// <summary>Submissions of a retried request (retry_count &gt; 0): what can push done/submitted past 100 % in a window.</summary>
    public long Retries { get; init; }
    public long BytesSubmitted { get; init; }
    public long BytesDone { get; init; }
    public double? DoneOverSubmitted { get; init; }
    public double? Efficiency { get; init; }
}

/// <summary>Files registered (or uploaded) and confirmed by the catalog; refused ones are in run.json's files.refused.</summary>
public sealed record InjectionTotals(long Files, long Bytes);

public sealed record CountBy(string Key, long Count);
public sealed record CountBy2(string Key, string Type, long Count);

public sealed record EventStats
{
    public long Total { get; init; }
    public required IReadOnlyList<CountBy> ByType { get; init; }
    public required IReadOnlyList<CountBy2> ByScopeAndType { get; init; }
    public required IReadOnlyList<CountBy2> ByProtocolAndType { get; init; }
}

/// <summary>
/// Per scope: the files injected (injections.parquet; null when the run did not record them), and as far as Hermes
/// events show it the datasets and containers created, the files seen in a transfer or deletion (<see cref="Files"/>,
/// <see cref="Bytes"/>: an injected file that never moved emits none), transfers and deletions.
/// </summary>
public sealed record ExperimentStats
{
    public required string Scope { get; init; }
    public long? InjectedFiles { get; init; }
    public long? InjectedBytes { get; init; }
    public long Datasets { get; init; }
    public long Containers { get; init; }
    public long Files { get; init; }
    public long Bytes { get; init; }
    /// <summary>Of the injected files; of the files seen in events when none were recorded as injected.</summary>
    public double? AverageFileSize { get; init; }
    public long TransfersDone { get; init; }
    public long DeletionsDone { get; init; }
    public long DidsErased { get; init; }
}

/// <summary>
/// Bytes written into each RSE by injection (null when the run did not record it) and moved by transfers and deletions,
/// against the scenario's quota and watermark where declared.
/// </summary>
public sealed record RseUsage
{
    public required string Rse { get; init; }
    public string? Qos { get; init; }
    public long? Quota { get; init; }
    public long? Watermark { get; init; }
    public long? InjectedFiles { get; init; }
    public long? InjectedBytes { get; init; }
    public long BytesIn { get; init; }
    public long FilesIn { get; init; }
    public long BytesOut { get; init; }
    public long BytesDeleted { get; init; }
    public long FilesDeleted { get; init; }
    /// <summary>Injected plus transferred in, minus deleted: what the RSE holds at the end; null when injections were not recorded.</summary>
    public long? NetBytes => InjectedBytes is { } injected ? injected + BytesIn - BytesDeleted : null;
    public double? NetOverQuota => Quota is > 0 && NetBytes is { } net ? Math.Round((double)net / Quota.Value, 6) : null;
}

public sealed record TransferMatrix
{
    public required IReadOnlyList<string> Sources { get; init; }
    public required IReadOnlyList<string> Destinations { get; init; }
    /// <summary>Target of done/submitted per link (e.g. 0.9); null when none was asked for.</summary>
    public double? LinkTarget { get; init; }
    /// <summary>Every (source, destination) pair of the matrix, NO DATA ones included (submitted 0, ratios null).</summary>
    public required IReadOnlyList<LinkCell> Links { get; init; }
    public int LinksWithData { get; init; }
    public int LinksBelowTarget { get; init; }
}

public sealed record LinkCell
{
    public required string Src { get; init; }
    public required string Dst { get; init; }
    public long Submitted { get; init; }
    public long Done { get; init; }
    public long Failed { get; init; }
    public long BytesDone { get; init; }
    /// <summary>The FDR's figure: transfer-done / transfer-submitted; may pass 1 when retries cross the window's edges.</summary>
    public double? DoneOverSubmitted { get; init; }
    /// <summary>Rucio's dashboards: done / (done + failed).</summary>
    public double? Efficiency { get; init; }
    /// <summary>no-data, ok, below-target, or null without a target.</summary>
    public string? Verdict { get; init; }
}

public sealed record RuleCompletion
{
    /// <summary>Rules seen in events (a transfer request or a RULE_OK names them).</summary>
    public long RulesSeen { get; init; }
    /// <summary>Rules seen in scopes where some rule sent RULE_OK: only rules with notify C, P or Y send it (noise rules never do).</summary>
    public long Notifying { get; init; }
    public long RulesOk { get; init; }
    /// <summary>RULE_OK of rules with a transfer before it: completion = first transfer-queued → RULE_OK.</summary>
    public long Measured { get; init; }
    public Distribution? CompletionSeconds { get; init; }
    public required IReadOnlyList<HistogramBin> Histogram { get; init; }
}

public sealed record Distribution(double Min, double P50, double P90, double P95, double P99, double Max, double Mean);
/// <summary>Rules completed in (previous edge, UpToSeconds]; null = longer than the last edge.</summary>
public sealed record HistogramBin(double? UpToSeconds, long Count);

/// <summary>Series on one time axis: bin i covers [start + i·bin, start + (i+1)·bin).</summary>
public sealed record OverTime
{
    public required DateTime Start { get; init; }
    public required double BinSeconds { get; init; }
    public required int Bins { get; init; }
    public required IReadOnlyDictionary<string, long[]> EventsByType { get; init; }
    public required IReadOnlyDictionary<string, long[]> EventsByScope { get; init; }
    public required IReadOnlyDictionary<string, long[]> EventsByProtocol { get; init; }
    public required double[] FilesPerSecond { get; init; }
    public required double[] BytesPerSecond { get; init; }
    public required double[] DeletionsPerSecond { get; init; }
    /// <summary>Queue length per daemon at the end of each bin (largest sample in the bin).</summary>
    public required IReadOnlyDictionary<string, long[]> BacklogByDaemon { get; init; }
    /// <summary>Per daemon, the largest CPU use (cores) and working set (bytes) of any of its pods in each bin.</summary>
    public required IReadOnlyDictionary<string, double[]> CpuByDaemon { get; init; }
    public required IReadOnlyDictionary<string, long[]> MemoryByDaemon { get; init; }
    /// <summary>Per daemon, the limits in force at the end of each bin (null: none set, or no sample yet).</summary>
    public required IReadOnlyDictionary<string, double?[]> CpuLimitByDaemon { get; init; }
    public required IReadOnlyDictionary<string, long?[]> MemoryLimitByDaemon { get; init; }
}

public sealed record ResourceUsage
{
    public required string Daemon { get; init; }
    public int Replicas { get; init; }
    public int? Threads { get; init; }
    public double? CpuRequest { get; init; }
    public double? CpuLimit { get; init; }
    public long? MemoryRequest { get; init; }
    public long? MemoryLimit { get; init; }
    /// <summary>Limits as first observed, when they changed during the run.</summary>
    public double? InitialCpuLimit { get; init; }
    public long? InitialMemoryLimit { get; init; }
    public long Samples { get; init; }
    public double CpuP50 { get; init; }
    public double CpuP90 { get; init; }
    public double CpuP95 { get; init; }
    public double CpuPeak { get; init; }
    public long MemoryP50 { get; init; }
    public long MemoryP90 { get; init; }
    public long MemoryPeak { get; init; }
    public int Restarts { get; init; }
    public int OomKilled { get; init; }
    public int KilledByChaos { get; init; }
    public int KilledOther { get; init; }
    public double PendingSeconds { get; init; }
    public double CrashLoopSeconds { get; init; }
    /// <summary>Memory limit in force at the last OOM kill (what the pod was using when killed).</summary>
    public long? MemoryAtOom { get; init; }
    public long PeakBacklog { get; init; }
    /// <summary>The longest queue held over 5 minutes of samples: a restart's brief pile-up does not move it (ResourceAnalysis.SustainedBacklog).</summary>
    public long SustainedBacklog { get; init; }
    public string Status { get; init; } = "OK";
}

public sealed record Recommendation
{
    public required string Daemon { get; init; }
    public int Replicas { get; init; }
    public int? Threads { get; init; }
    /// <summary>Kubernetes VPA: p90 + 15 %, after an OOM max(used + 100 MiB, used × 1.2), at least 25 mCPU / 250 MiB.</summary>
    public double VpaCpu { get; init; }
    public long VpaMemory { get; init; }
    public bool VpaOomBump { get; init; }
    /// <summary>Robusta KRR simple: CPU request p95 (no CPU limit), memory request = limit = max × 1.15.</summary>
    public double KrrCpuRequest { get; init; }
    public long KrrMemory { get; init; }
    public double? CurrentCpuLimit { get; init; }
    public long? CurrentMemoryLimit { get; init; }
    /// <summary>raise, lower or keep, on memory (the limit that kills).</summary>
    public string MemoryAdvice { get; init; } = "keep";
}

public sealed record Takeaway
{
    public required IReadOnlyList<Recommendation> Daemons { get; init; }
    public int Pods { get; init; }
    public double VpaCpu { get; init; }
    public long VpaMemory { get; init; }
    public double KrrCpu { get; init; }
    public long KrrMemory { get; init; }
    public double? CurrentCpu { get; init; }
    public long? CurrentMemory { get; init; }
    /// <summary>Node shape (the scenario's largest pool); null when scenario.yaml has no nodes.</summary>
    public double? NodeCpu { get; init; }
    public long? NodeMemory { get; init; }
    public int? NodesAvailable { get; init; }
    public int? NodesNeededVpa { get; init; }
    public int? NodesNeededKrr { get; init; }
}

/// <summary>A chaos action and how long the affected backlog took to come back to its level before it.</summary>
public sealed record FaultRecovery
{
    public required string Name { get; init; }
    public required string Kind { get; init; }
    public required string Target { get; init; }
    public required DateTime Start { get; init; }
    public DateTime? End { get; init; }
    public string? Detail { get; init; }
    /// <summary>The queue watched: the target daemon's, or the conveyor's (submitter + poller + finisher) for RSE and link faults.</summary>
    public string BacklogOf { get; init; } = "";
    public long BacklogBefore { get; init; }
    public long BacklogPeak { get; init; }
    public DateTime? RecoveredAt { get; init; }
    public double? TimeToRecoverSeconds { get; init; }
}

/// <summary>A pod killed or OOMKilled, for the plots' markers and the restarts column.</summary>
public sealed record PodIncident(DateTime Time, string Daemon, string Pod, string Event, string? Reason);
