using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Lake.Catalog;
using FdrHarness.Lake.Chaos;
using FdrHarness.Lake.Daemons;
using FdrHarness.Lake.Cluster;
using FdrHarness.Lake.Simulation;
using FdrHarness.Lake.Workload;

namespace FdrHarness.Lake;

/// <summary>OOMKills and container restarts of one daemon's pods over the run.</summary>
public sealed record DaemonOutcome(string Daemon, long OomKills, long Restarts, long ItemsDone, long BacklogAtEnd, long PeakBacklog, long PeakMemory);

/// <summary>The end-of-run counters of the embedded lake.</summary>
public sealed record LakeResult
{
    public TimeSpan VirtualEnd { get; init; }
    public DateTime VirtualEndUtc { get; init; }
    public long Events { get; init; }
    public long FilesInjected { get; init; }
    public long FilesRefused { get; init; }
    /// <summary>Injected files with at least one replica at the end.</summary>
    public long FilesPresent { get; init; }
    /// <summary>Of those, files with two or more replicas.</summary>
    public long FilesReplicated { get; init; }
    /// <summary>Injected files whose every replica was deleted.</summary>
    public long FilesDeleted { get; init; }
    /// <summary>Injected files with no replica left but one being copied (their source was deleted meanwhile).</summary>
    public long FilesInTransit { get; init; }
    public long TransfersQueued { get; init; }
    public long TransfersSubmitted { get; init; }
    public long TransfersDone { get; init; }
    public long TransfersFailed { get; init; }
    /// <summary>Submitted, verdict not yet polled from FTS: submitted = done + failed + active.</summary>
    public long TransfersActive { get; init; }
    public long TransfersCancelled { get; init; }
    public long BytesTransferred { get; init; }
    public long Deletions { get; init; }
    public long BytesDeleted { get; init; }
    /// <summary>Bytes of the replicas the catalog removed (must equal the bytes of deletion-done).</summary>
    public long BytesOfReplicasRemoved { get; init; }
    public long RulesCreated { get; init; }
    public long RulesOk { get; init; }
    public long RulesStuck { get; init; }
    public long RulesReplicating { get; init; }
    public long RulesRemoved { get; init; }
    /// <summary>Locks or uploads refused because no RSE had room under its quota (noticed, never silently over quota).</summary>
    public long QuotaRefusals { get; init; }
    /// <summary>Times an RSE's usage went over its quota without a refusal; always 0 unless the lake has a bug.</summary>
    public long QuotaExceededUnnoticed { get; init; }
    /// <summary>Rules found OK while one of their locks was not; always 0 unless the lake has a bug.</summary>
    public long RulesOkWithLockNotOk { get; init; }
    /// <summary>Limit changes refused as the API server refuses them (a request above its limit once merged), with why.</summary>
    public IReadOnlyList<string> LimitChangesRefused { get; init; } = [];
    public IReadOnlyList<DaemonOutcome> Daemons { get; init; } = [];
    /// <summary>What the shard's part did (run.json's counts of a shard); the whole run's without a shard.</summary>
    public LakePart Part { get; init; } = new(0, 0, 0, 0, 0, 0, 0, 0);

    public long OomKills(string daemon) => Daemons.FirstOrDefault(d => d.Daemon == daemon)?.OomKills ?? 0;
    public long Restarts(string daemon) => Daemons.FirstOrDefault(d => d.Daemon == daemon)?.Restarts ?? 0;
}

/// <summary>The counts of a shard's part of the lake: its files, the transfers of its files, its rules (<see cref="Dids.Shard"/>).</summary>
public sealed record LakePart(long FilesInjected, long FilesRefused, long RulesCreated, long RulesOk, long RulesStuck, long TransfersSubmitted,
    long TransfersDone, long TransfersFailed)
{
    /// <summary>The whole lake's counts as a part (a run that is not sharded).</summary>
    public static LakePart Whole(LakeResult r) => new(r.FilesInjected, r.FilesRefused, r.RulesCreated, r.RulesOk, r.RulesStuck,
        r.TransfersSubmitted, r.TransfersDone, r.TransfersFailed);
}

/// <summary>The live view, reported every few virtual minutes.</summary>
public sealed record LakeProgress(
    TimeSpan VirtualTime,
    TimeSpan Duration,
    long FilesInjected,
    long TransfersActive,
    long TransfersDone,
    long TransfersFailed,
    IReadOnlyList<KeyValuePair<string, long>> Backlog);

/// <summary>
/// The embedded data lake: Rucio's catalog and daemons, FTS and the Kubernetes pods they run in, simulated on
/// virtual time and deterministic from the scenario's seed. Work flows only through the daemons: rule →
/// judge-evaluator → requests → conveyor-submitter → FTS → conveyor-poller → conveyor-finisher → locks and rules OK;
/// expiry → judge-cleaner → tombstones → reaper → deletion-done; DID lifetime → undertaker; counters → abacus.
/// </summary>
public static class EmbeddedLake
{
    private const long ProgressEveryMs = 5 * 60_000;
    private const long FtsTickMs = 1000;

    /// <summary>The scenario's plan on the lake (<see cref="RunPlan.Create"/> then <see cref="Run(RunPlan, IObservationSink, IProgress{LakeProgress}?, CancellationToken)"/>).</summary>
    public static LakeResult Run(Scenario scenario, IObservationSink sink, IProgress<LakeProgress>? progress = null, CancellationToken ct = default) =>
        Run(RunPlan.Create(scenario), sink, progress, ct);

    public static LakeResult Run(RunPlan plan, IObservationSink sink, IProgress<LakeProgress>? progress = null, CancellationToken ct = default) =>
        Run(plan, sink, progress, ct, atEnd: null);

    /// <summary>
    /// The whole plan on the lake, counting <paramref name="shard"/>'s part in <see cref="LakeResult.Part"/>. Every shard
    /// simulates the same whole lake (its operations share the daemons, queues, links and quotas with the other shards'),
    /// so the shards' parts sum exactly to one process's run; the sink decides which observations are the shard's.
    /// </summary>
    public static LakeResult Run(RunPlan plan, PlanShard? shard, IObservationSink sink, IProgress<LakeProgress>? progress = null, CancellationToken ct = default) =>
        Run(plan, sink, progress, ct, atEnd: null, shard);

    /// <summary>The scenario on the lake with <paramref name="meter"/> seeing each pod's work (fdr calibrate).</summary>
    public static LakeResult Run(Scenario scenario, IObservationSink sink, IWorkMeter meter) =>
        Run(RunPlan.Create(scenario), sink, null, default, atEnd: null, meter: meter);

    /// <param name="atEnd">Tests look at the lake's catalog once the run is over.</param>
    internal static LakeResult Run(RunPlan plan, IObservationSink sink, IProgress<LakeProgress>? progress, CancellationToken ct, Action<LakeParts>? atEnd,
        PlanShard? shard = null, IWorkMeter? meter = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(sink);
        var scenario = plan.Scenario;
        var end = (long)plan.Duration.TotalMilliseconds;

        var lake = new LakeParts(plan, sink, shard is { IsWhole: false } ? shard : null, meter);
        var context = lake.Context;
        var workload = new PlanDriver(lake, plan, new ChaosEngine(lake));
        lake.Server.Workload = workload;

        foreach (var daemon in lake.Daemons) lake.Cluster.Deploy(daemon);
        workload.Schedule();

        Every(context, FtsTickMs, FtsTickMs, end, () => lake.Fts.Advance(context.Now));
        foreach (var daemon in lake.Daemons)
        {
            var tick = (long)daemon.Model.Tick.TotalMilliseconds;
            var d = daemon;
            Every(context, tick, tick, end, () => d.Tick(tick / 1000.0));
        }
        var interval = Math.Max(1000, (long)scenario.Run.ObservationInterval.TotalMilliseconds);
        Every(context, interval, interval, end, () => Sample(lake, interval));
        if (progress is not null)
            Every(context, 0, ProgressEveryMs, end, () => progress.Report(Progress(lake)));

        try
        {
            context.Queue.RunUntil(context.Clock, end, ct);
        }
        finally
        {
            workload.Finish(); // an interrupted run's report still has what went in
        }
        progress?.Report(Progress(lake));
        atEnd?.Invoke(lake);
        return Result(lake);
    }

    /// <summary>Repeats an action from <paramref name="first"/> every <paramref name="period"/> up to the end.</summary>
    private static void Every(LakeContext context, long first, long period, long end, Action action)
    {
        Action run = null!;
        run = () =>
        {
            action();
            var next = context.Now + period;
            if (next <= end) context.Queue.Schedule(next, run); // one delegate for every repetition, not one per tick
        };
        if (first <= end) context.Queue.Schedule(first, run);
    }

    /// <summary>
    /// One sample per pod, as metrics.k8s.io and Prometheus give them: CPU is the mean over the interval, memory the
    /// highest working set within it (max_over_time), so a spike that OOMKilled the pod shows.
    /// </summary>
    private static void Sample(LakeParts lake, long intervalMs)
    {
        var time = lake.Context.UtcNow;
        var now = lake.Context.Now;
        foreach (var daemon in lake.Daemons)
        {
            var backlog = daemon.Backlog;
            foreach (var pod in daemon.Pods)
            {
                var running = pod.Phase == PodPhase.Running;
                if (running) pod.SawMemory(pod.Memory);
                var cpu = pod.CpuSince(now, intervalMs);
                lake.Context.Sink.Sample(new PodSample
                {
                    Time = time,
                    Daemon = daemon.Name,
                    Pod = pod.Name,
                    Node = pod.Node?.Name,
                    State = pod.Phase switch
                    {
                        PodPhase.Running => "Running",
                        PodPhase.CrashLoopBackOff => "CrashLoopBackOff",
                        PodPhase.Terminated => "Terminated",
                        _ => "Pending",
                    },
                    CpuCores = cpu,
                    MemoryBytes = pod.MemoryPeak,
                    CpuRequest = pod.Requests.Cpu?.Cores,
                    CpuLimit = pod.Limits.Cpu?.Cores,
                    MemoryRequest = pod.Requests.Memory?.Bytes,
                    MemoryLimit = pod.Limits.Memory?.Bytes,
                    Restarts = pod.Restarts,
                    Backlog = backlog,
                });
                pod.MemoryPeak = 0;
            }
        }
    }

    private static LakeProgress Progress(LakeParts lake)
    {
        var c = lake.Context.Counters;
        return new LakeProgress(
            TimeSpan.FromMilliseconds(lake.Context.Now),
            lake.Scenario.Run.Duration,
            c.FilesInjected,
            c.TransfersSubmitted - c.TransfersDone - c.TransfersFailed,
            c.TransfersDone,
            c.TransfersFailed,
            lake.Daemons.Select(d => new KeyValuePair<string, long>(d.Name, d.Backlog)).ToArray());
    }

    private static LakeResult Result(LakeParts lake)
    {
        var c = lake.Context.Counters;
        long present = 0, replicated = 0, deleted = 0, inTransit = 0;
        var files = lake.Dids.Files;
        var replicas = lake.Replicas.Table;
        for (var f = 0; f < files.Count; f++)
        {
            if (files.State[f] is FileState.NotInjected or FileState.Refused) continue;
            int live = 0, copying = 0;
            for (var r = files.FirstReplica[f]; r >= 0; r = replicas.Next[r])
            {
                if (replicas.State[r] == ReplicaState.Available) live++;
                else if (replicas.State[r] == ReplicaState.Copying) copying++;
            }
            // A file without replicas that the catalog did not mark deleted is counted nowhere: the invariant catches it.
            if (live > 0) present++;
            else if (copying > 0) inTransit++;
            else if (files.State[f] == FileState.Deleted) deleted++;
            if (live > 1) replicated++;
        }
        // Final check of the rule invariant over every lock.
        var okWithBadLock = c.RulesOkWithLockNotOk;
        foreach (var rule in lake.Rules.All)
        {
            if (rule.State != RuleState.Ok) continue;
            for (var l = rule.LockStart; l < rule.LockStart + rule.LockCount; l++)
                if (lake.Rules.Locks.State[l] != LockState.Ok)
                {
                    okWithBadLock++;
                    break;
                }
        }
        return new LakeResult
        {
            VirtualEnd = TimeSpan.FromMilliseconds(lake.Context.Now),
            VirtualEndUtc = lake.Context.UtcNow,
            Events = c.Events,
            FilesInjected = c.FilesInjected,
            FilesRefused = c.FilesRefused,
            FilesPresent = present,
            FilesReplicated = replicated,
            FilesDeleted = deleted,
            FilesInTransit = inTransit,
            TransfersQueued = c.TransfersQueued,
            TransfersSubmitted = c.TransfersSubmitted,
            TransfersDone = c.TransfersDone,
            TransfersFailed = c.TransfersFailed,
            TransfersActive = c.TransfersSubmitted - c.TransfersDone - c.TransfersFailed,
            TransfersCancelled = c.TransfersCancelled,
            BytesTransferred = c.BytesTransferred,
            Deletions = c.Deletions,
            BytesDeleted = c.BytesDeleted,
            BytesOfReplicasRemoved = lake.Rses.All.Sum(r => r.Arrived - r.Used),
            RulesCreated = c.RulesCreated,
            RulesOk = lake.Rules.All.Count(r => r.State == RuleState.Ok),
            RulesStuck = lake.Rules.All.Count(r => r.State == RuleState.Stuck),
            RulesReplicating = lake.Rules.All.Count(r => r.State is RuleState.Replicating or RuleState.Inject),
            RulesRemoved = lake.Rules.All.Count(r => r.State == RuleState.Removed),
            QuotaRefusals = c.QuotaRefusals,
            QuotaExceededUnnoticed = c.QuotaExceededUnnoticed,
            RulesOkWithLockNotOk = okWithBadLock,
            LimitChangesRefused = c.LimitChangesRefused.ToArray(),
            Daemons = lake.Daemons.Select(d => new DaemonOutcome(d.Name, d.OomKills, d.Restarts, d.ItemsDone, d.Backlog, d.PeakBacklog, d.PeakMemory)).ToArray(),
            Part = PartOf(lake),
        };
    }

    private static LakePart PartOf(LakeParts lake)
    {
        var p = lake.Context.Part;
        var rules = lake.Rules.All.Where(r => lake.Dids.InPart(r.Kind, r.Did)).ToList();
        return new LakePart(p.FilesInjected, p.FilesRefused, rules.Count, rules.Count(r => r.State == RuleState.Ok), rules.Count(r => r.State == RuleState.Stuck),
            p.TransfersSubmitted, p.TransfersDone, p.TransfersFailed);
    }
}
