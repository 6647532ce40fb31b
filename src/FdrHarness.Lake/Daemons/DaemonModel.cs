using System.Globalization;
using FdrHarness.Core.Quantities;
using FdrHarness.Core.Scenarios.Model;

namespace FdrHarness.Lake.Daemons;

/// <summary>
/// The work model of one daemon, read from its <c>model:</c> section in the scenario (every key optional).
/// A daemon is a Deployment of pods × threads. Its queue is partitioned over all its running threads, as Rucio's
/// daemons hash item ids over their threads: each thread takes its share of the backlog, at most a bulk. A thread
/// then spends the bulk's CPU (throttled: at most a core per thread, the pod at its CPU limit, its idle loop
/// included) and waits the bulk's remote time (FTS, storage: wall time, no CPU), holding the bulk's memory until it
/// is done. Samples take CPU as the mean over their interval and memory as the maximum within it.
/// <list type="table">
/// <listheader><term>key</term><description>meaning (default)</description></listheader>
/// <item><term>tick</term><description>how often threads look for work, a duration (2s)</description></item>
/// <item><term>bulk</term><description>items a thread takes at once at most; 0 = its whole share of the backlog (per daemon, see <see cref="Defaults"/>)</description></item>
/// <item><term>cost_per_item</term><description>CPU time per item, a duration such as 20ms</description></item>
/// <item><term>cost_per_bulk</term><description>CPU time per bulk on top of its items (0s)</description></item>
/// <item><term>wait_per_item</term><description>wall time per item the thread waits on a remote service, without CPU (0s)</description></item>
/// <item><term>wait_per_bulk</term><description>the same per bulk (0s)</description></item>
/// <item><term>base_memory</term><description>working set of an idle pod, e.g. 200Mi</description></item>
/// <item><term>memory_per_item</term><description>memory held per item in flight (what the daemon loads for it)</description></item>
/// <item><term>cache_per_item</term><description>memory a pod keeps after each item it finished (caches, fragmentation) (0)</description></item>
/// <item><term>cache_max</term><description>where that retained memory levels off (0)</description></item>
/// <item><term>idle_cpu</term><description>CPU of a pod with nothing to do: its loops, heartbeats, logging (5m)</description></item>
/// <item><term>startup</term><description>time from scheduled to started (15s)</description></item>
/// <item><term>max_retries</term><description>conveyor-finisher: failed attempts resubmitted as new requests (3)</description></item>
/// <item><term>stuck_delay</term><description>judge-repairer: how long a rule stays STUCK before it is repaired (30m, Rucio's delta of 1800 s)</description></item>
/// <item><term>greedy</term><description>reaper: delete every tombstoned replica (true), or only when an RSE is below its watermark (false)</description></item>
/// <item><term>deletion_time</term><description>reaper: storage time per deleted file, its wait per item and the deletion-done duration (200ms)</description></item>
/// </list>
/// What an item is: judge-injector a file of the rule's DID; judge-evaluator a DID to evaluate (a new rule's, or a
/// dataset files were attached to: Rucio's updated_dids), costing per DID (cost_per_bulk) and per lock it holds
/// (cost_per_item, memory_per_item); judge-repairer a lock of the rule it repairs (all of them are read);
/// judge-cleaner a lock of the rule it removes; conveyor-submitter and -finisher a request; conveyor-poller a poll of
/// a transfer (every transfer FTS holds is polled once a minute, Rucio's older_than, the ended ones reported); reaper
/// a replica; undertaker an expired DID or a file attached to it (its pass of up to 10,000 DIDs loads their
/// content); abacus-* an updated counter row (abacus-collection-replica reads its whole updated_col_rep share);
/// hermes a message; transmogrifier a new DID; rucio-server an upload as the FDR's clients made it (rucio upload's
/// few API calls for one file: DID and replica lookups, the registration, the attachment, the trace) or another
/// call; rucio-server-auth a token request. The servers run at least 4 workers (WSGI processes) per pod.
/// A daemon the scenario does not list runs as one pod without requests or limits.
/// <para>Per-daemon defaults (<see cref="Defaults"/>). Base memories are the seed's observed usage
/// (daemons-during-fdr.csv); costs are the daemons' work per item and bulk, set so that the ESCAPE rehearsal's load
/// (10 uploads/s, 0.5 M transfers, 1.4 M counter rows and 1.6 M messages a day) gives the seed's CPU; idle CPU marked *
/// is fitted to the seed where the lake models no work that would explain it:</para>
/// <code>
/// daemon                     bulk   cost/item cost/bulk wait/item idle   base    mem/item cache/item cache_max tick
/// judge-injector             1      0.1ms     50ms      -         3m     90Mi    4Ki      -          -         2s
/// judge-evaluator            1      5ms       350ms     -         5m     600Mi   80Ki     8Ki        700Mi     2s
/// judge-repairer             1      5ms       500ms     -         200m*  550Mi   16Ki     -          -         2s
/// judge-cleaner              1      5ms       200ms     -         100m*  180Mi   8Ki      -          -         2s
/// conveyor-submitter         100    180ms     500ms     -         20m    280Mi   64Ki     -          -         2s
/// conveyor-poller            100    5ms       50ms      -         50m*   180Mi   32Ki     -          -         2s
/// conveyor-finisher          100    80ms      -         -         20m    180Mi   64Ki     -          -         2s
/// reaper                     100    10ms      100ms     200ms     30m    230Mi   64Ki     -          -         2s
/// undertaker                 10000  2ms       500ms     -         20m    90Mi    16Ki     -          -         60s
/// abacus-account, -rse       10000  0.3ms     -         -         5m     75Mi    1Ki      -          -         10s
/// abacus-collection-replica  0      5ms       1s        -         5m     150Mi   80Ki     5.5Ki      16Gi      10s
/// hermes                     1000   2.5ms     -         -         5m     130Mi   2Ki      -          -         2s
/// transmogrifier             100    5ms       -         -         10m    95Mi    8Ki      -          -         10s
/// rucio-server               1      600ms     -         -         10m    1200Mi  256Ki    4.5Ki      1536Mi    1s
/// rucio-server-auth          10     20ms      -         -         15m    500Mi   1Mi      -          -         2s
/// rucio-ui                   -      -         -         -         4m     550Mi   -        -          -         2s
/// </code>
/// Calibration on escape-fdr-2020 (seed limits vs the takeaway's): 10 attachments/s × 350ms keep the three
/// judge-evaluator pods at 1–2 cores (seed 1.3); an LSST dataset's 12,700 locks × 80Ki ≈ 1 GiB with the pod's retained
/// cache pass 2000Mi but not 3Gi. 10 uploads/s × 600ms put each rucio-server pod at 2–4 cores (seed "2-4"); its cache
/// grows with the calls a pod served (the seed's "> 2.5 GiB cache") and passes 2500Mi after about 300,000, not 4Gi.
/// abacus-collection-replica keeps about 5.5 KiB per row it processed (Python's heap does not shrink): about 3 GiB at
/// mid-day (seed 3 GiB), past 7000Mi once late in the day (seed: one OOMKill, "not understood"), never 8Gi. The
/// undertaker's pass over the expired EGO-VIRGO datasets (up to 15,000 DIDs and files × 16Ki + 90Mi) passes 200Mi but
/// not 400Mi. The reaper waits on storage: 8 threads × 1 deletion per 210 ms use 0.2 cores a pod at most (seed peak 0.2).
/// </summary>
public sealed record DaemonModel
{
    public TimeSpan Tick { get; init; } = TimeSpan.FromSeconds(2);
    public int Bulk { get; init; } = 100;
    public double CostPerItem { get; init; } = 0.01;
    public double CostPerBulk { get; init; }
    public double WaitPerItem { get; init; }
    public double WaitPerBulk { get; init; }
    public long BaseMemory { get; init; } = 100L << 20;
    public long MemoryPerItem { get; init; } = 4 << 10;
    public long CachePerItem { get; init; }
    public long CacheMax { get; init; }
    public double IdleCpu { get; init; } = 0.005;
    public TimeSpan Startup { get; init; } = TimeSpan.FromSeconds(15);
    public int MaxRetries { get; init; } = 3;
    public TimeSpan StuckDelay { get; init; } = TimeSpan.FromMinutes(30);
    public bool Greedy { get; init; } = true;
    public TimeSpan DeletionTime { get; init; } = TimeSpan.FromMilliseconds(200);

    private const long Ki = 1024, Mi = 1024 * 1024;

    /// <summary>Defaults per daemon: costs of the daemons' real work per item and per bulk, base memories the seed's observed usage (see the table above).</summary>
    public static DaemonModel Defaults(string daemon) => daemon switch
    {
        "judge-injector" => new() { Bulk = 1, CostPerItem = 0.0001, CostPerBulk = 0.05, BaseMemory = 90 * Mi, MemoryPerItem = 4 * Ki, IdleCpu = 0.003 },
        "judge-evaluator" => new()
        {
            Bulk = 1, CostPerItem = 0.005, CostPerBulk = 0.35, BaseMemory = 600 * Mi, MemoryPerItem = 80 * Ki,
            CachePerItem = 8 * Ki, CacheMax = 700 * Mi,
        },
        "judge-repairer" => new() { Bulk = 1, CostPerItem = 0.005, CostPerBulk = 0.5, BaseMemory = 550 * Mi, MemoryPerItem = 16 * Ki, IdleCpu = 0.2, StuckDelay = TimeSpan.FromMinutes(30) },
        "judge-cleaner" => new() { Bulk = 1, CostPerItem = 0.005, CostPerBulk = 0.2, BaseMemory = 180 * Mi, MemoryPerItem = 8 * Ki, IdleCpu = 0.1 },
        "conveyor-submitter" => new() { Bulk = 100, CostPerItem = 0.18, CostPerBulk = 0.5, BaseMemory = 280 * Mi, MemoryPerItem = 64 * Ki, IdleCpu = 0.02 },
        "conveyor-poller" => new() { Bulk = 100, CostPerItem = 0.005, CostPerBulk = 0.05, BaseMemory = 180 * Mi, MemoryPerItem = 32 * Ki, IdleCpu = 0.05 },
        "conveyor-finisher" => new() { Bulk = 100, CostPerItem = 0.08, BaseMemory = 180 * Mi, MemoryPerItem = 64 * Ki, IdleCpu = 0.02 },
        "reaper" => new() { Bulk = 100, CostPerItem = 0.01, CostPerBulk = 0.1, WaitPerItem = 0.2, BaseMemory = 230 * Mi, MemoryPerItem = 64 * Ki, IdleCpu = 0.03 },
        "undertaker" => new() { Bulk = 10_000, CostPerItem = 0.002, CostPerBulk = 0.5, BaseMemory = 90 * Mi, MemoryPerItem = 16 * Ki, Tick = TimeSpan.FromSeconds(60), IdleCpu = 0.02 },
        "abacus-account" or "abacus-rse" => new() { Bulk = 10_000, CostPerItem = 0.0003, BaseMemory = 75 * Mi, MemoryPerItem = 1 * Ki, Tick = TimeSpan.FromSeconds(10) },
        "abacus-collection-replica" => new()
        {
            Bulk = 0, CostPerItem = 0.005, CostPerBulk = 1, BaseMemory = 150 * Mi, MemoryPerItem = 80 * Ki,
            CachePerItem = 5632, CacheMax = 16L << 30, Tick = TimeSpan.FromSeconds(10),
        },
        "hermes" => new() { Bulk = 1000, CostPerItem = 0.0025, BaseMemory = 130 * Mi, MemoryPerItem = 2 * Ki },
        "transmogrifier" => new() { Bulk = 100, CostPerItem = 0.005, BaseMemory = 95 * Mi, MemoryPerItem = 8 * Ki, Tick = TimeSpan.FromSeconds(10), IdleCpu = 0.01 },
        "rucio-server" => new() { Bulk = 1, CostPerItem = 0.6, BaseMemory = 1200 * Mi, MemoryPerItem = 256 * Ki, CachePerItem = 4608, CacheMax = 1536 * Mi, Tick = TimeSpan.FromSeconds(1), IdleCpu = 0.01 },
        "rucio-server-auth" => new() { Bulk = 10, CostPerItem = 0.02, BaseMemory = 500 * Mi, MemoryPerItem = 1 * Mi, IdleCpu = 0.015 },
        "rucio-ui" => new() { BaseMemory = 550 * Mi, IdleCpu = 0.004 },
        _ => new(),
    };

    /// <summary>The daemon's defaults overridden by its scenario <c>model:</c> entries.</summary>
    public static DaemonModel For(DaemonSpec spec)
    {
        var m = Defaults(spec.Name);
        foreach (var key in spec.Model.Keys.Order(StringComparer.Ordinal))
        {
            var v = spec.Model[key];
            m = key switch
            {
                "tick" => m with { Tick = Durations.Parse(v) },
                "bulk" => m with { Bulk = int.Parse(v, CultureInfo.InvariantCulture) },
                "cost_per_item" => m with { CostPerItem = Durations.Parse(v).TotalSeconds },
                "cost_per_bulk" => m with { CostPerBulk = Durations.Parse(v).TotalSeconds },
                "wait_per_item" => m with { WaitPerItem = Durations.Parse(v).TotalSeconds },
                "wait_per_bulk" => m with { WaitPerBulk = Durations.Parse(v).TotalSeconds },
                "base_memory" => m with { BaseMemory = ByteSize.Parse(v).Bytes },
                "memory_per_item" => m with { MemoryPerItem = ByteSize.Parse(v).Bytes },
                "cache_per_item" => m with { CachePerItem = ByteSize.Parse(v).Bytes },
                "cache_max" => m with { CacheMax = ByteSize.Parse(v).Bytes },
                "idle_cpu" => m with { IdleCpu = CpuQuantity.Parse(v).Cores },
                "startup" => m with { Startup = Durations.Parse(v) },
                "max_retries" => m with { MaxRetries = int.Parse(v, CultureInfo.InvariantCulture) },
                "stuck_delay" => m with { StuckDelay = Durations.Parse(v) },
                "greedy" => m with { Greedy = bool.Parse(v) },
                "deletion_time" => m with { DeletionTime = Durations.Parse(v), WaitPerItem = Durations.Parse(v).TotalSeconds },
                _ => throw new ArgumentException($"daemons.{spec.Name}.model: unknown key '{key}'; expected tick, bulk, cost_per_item, cost_per_bulk, wait_per_item, wait_per_bulk, base_memory, memory_per_item, cache_per_item, cache_max, idle_cpu, startup, max_retries, stuck_delay, greedy, deletion_time"),
            };
        }
        if (m.Tick <= TimeSpan.Zero) throw new ArgumentException($"daemons.{spec.Name}.model.tick must be positive");
        return m;
    }
}
