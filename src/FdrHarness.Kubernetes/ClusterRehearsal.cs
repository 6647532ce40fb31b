using FdrHarness.Core.Execution;
using FdrHarness.Core.Observations;
using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Core.Scenarios.Yaml;
using FdrHarness.Kubernetes.Actions;
using FdrHarness.Kubernetes.Connection;
using FdrHarness.Kubernetes.Observation;
using FdrHarness.Kubernetes.Safety;
using k8s;

namespace FdrHarness.Kubernetes;

/// <summary>What <see cref="ClusterRehearsal.RunAsync"/> needs besides the scenario.</summary>
public sealed record ClusterRunOptions
{
    /// <summary>
    /// Where lifecycle events, samples and fault records go. Written from several tasks at once (watch, sampler,
    /// chaos) and usually shared with the Rucio side: pass a synchronized sink.
    /// </summary>
    public required IObservationSink Sink { get; init; }
    /// <summary>The run directory: audit.jsonl and restore.json are written here.</summary>
    public required string RunDirectory { get; init; }
    /// <summary>The run's time zero, on <see cref="Clock"/>; chaos offsets count from it. Default: now.</summary>
    public DateTimeOffset? Start { get; init; }
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    /// <summary>A ready client; by default one is built from target.kubernetes.</summary>
    public IKubernetes? Client { get; init; }
    /// <summary>Usage sources in order of preference; by default metrics.k8s.io alone.</summary>
    public IReadOnlyList<IPodUsageSource>? UsageSources { get; init; }
    public RolloutOptions Rollout { get; init; } = new();
    public TimeSpan ProbeTimeout { get; init; } = ClusterConnector.DefaultProbeTimeout;
    /// <summary>For safety diagnostics with file:line:column.</summary>
    public SourceMap? SourceMap { get; init; }
}

/// <summary>What the cluster side did, for the summary line and run.json.</summary>
public sealed record ClusterRunSummary
{
    public string ServerVersion { get; init; } = "";
    public ChaosCounts Chaos { get; init; } = new();
    public int LimitsRestored { get; init; }
    public int RestoreFailures { get; init; }
    public int LifecycleEvents { get; init; }
    public int Samples { get; init; }
    public int WatchRelists { get; init; }
    public bool Interrupted { get; init; }

    /// <summary>Flat counters for run.json's summary.</summary>
    public IReadOnlyDictionary<string, double> Counters() => new Dictionary<string, double>
    {
        [RunCounters.PodsKilled] = Chaos.PodsKilled,
        [RunCounters.KillsHeldBack] = Chaos.KillsSkipped,
        [RunCounters.LimitChanges] = Chaos.LimitChanges,
        [RunCounters.ChaosActionsFailed] = Chaos.ActionsFailed,
        [RunCounters.LimitsRestored] = LimitsRestored,
        [RunCounters.RestoreFailures] = RestoreFailures,
        [RunCounters.PodEvents] = LifecycleEvents,
        [RunCounters.PodSamples] = Samples,
        [RunCounters.WatchRelists] = WatchRelists,
    };
}

/// <summary>
/// The live cluster side of a run: refuse unsafe scenarios, connect and probe, then watch pods, sample their usage
/// and carry out the chaos until the scenario's duration has passed or the caller cancels; then put every changed
/// limit back, also after cancellation.
/// </summary>
public static class ClusterRehearsal
{
    /// <summary>How long the end waits for pod kills that were due before it but run late.</summary>
    public static readonly TimeSpan LateKills = TimeSpan.FromSeconds(30);

    /// <exception cref="ClusterSafetyException">The scenario may not touch the cluster (before any connection).</exception>
    /// <exception cref="ClusterUnreachableException">The API server cannot be reached or refused the probe.</exception>
    /// <returns>The counts; <see cref="ClusterRunSummary.Interrupted"/> when <paramref name="ct"/> ended it early.</returns>
    public static Task<ClusterRunSummary> RunAsync(Scenario scenario, ClusterRunOptions options, CancellationToken ct) =>
        RunAsync(RunPlan.Create(scenario), options, ct);

    /// <summary>The plan's chaos on the live cluster, with the pods watched and sampled for the run's duration.</summary>
    public static async Task<ClusterRunSummary> RunAsync(RunPlan plan, ClusterRunOptions options, CancellationToken ct)
    {
        var scenario = plan.Scenario;
        var refusals = NamespaceSafety.Check(scenario, options.SourceMap);
        if (refusals.Count > 0) throw new ClusterSafetyException(refusals);
        var connection = scenario.Target.Kubernetes!;
        var namespaces = connection.Namespaces;
        var clock = options.Clock;

        var client = options.Client ?? ClusterConnector.Create(connection);
        var version = "";
        foreach (var ns in namespaces)
            version = await ClusterConnector.ProbeAsync(client, ns, options.ProbeTimeout, ct).ConfigureAwait(false);

        var start = options.Start ?? clock.GetUtcNow();
        using var audit = new AuditLog(options.RunDirectory, clock);
        var context = new ChaosContext
        {
            Client = client,
            AllowList = namespaces,
            MaxUnavailable = connection.MaxUnavailable,
            OwnerKinds = connection.OwnerKinds,
            Seed = scenario.Run.Seed,
            Release = connection.Release,
            Audit = audit,
            Sink = options.Sink,
            Restore = RestoreFile.Open(options.RunDirectory),
            Clock = clock,
            Rollout = options.Rollout,
        };
        var watcher = new PodWatcher(client, namespaces, options.Sink, clock);
        var sampler = new PodSampler(watcher.Inventory, options.UsageSources ?? [new MetricsServerUsage(client)], namespaces, options.Sink, clock);
        var chaos = new ChaosExecutor(plan, context);

        using var running = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var interrupted = false;
        var tasks = new List<Task>();
        Exception? failure = null;
        try
        {
            var listed = await watcher.ListAsync(running.Token).ConfigureAwait(false);
            tasks.Add(watcher.RunAsync(running.Token, listed));
            tasks.Add(sampler.RunAsync(start, scenario.Run.ObservationInterval, running.Token));
            tasks.Add(chaos.RunAsync(start, running.Token));
            var remaining = start + scenario.Run.Duration - clock.GetUtcNow();
            if (remaining > TimeSpan.Zero) await Task.Delay(remaining, clock, ct).ConfigureAwait(false);
            // A kill that was due before the end but runs late (a loaded machine) still happens, briefly bounded: a
            // kill is one call. Rollouts of limit changes are not waited for; the restore below puts them back.
            using (var late = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                await Task.WhenAny(chaos.Kills, Task.Delay(LateKills, clock, late.Token)).ConfigureAwait(false);
                await late.CancelAsync().ConfigureAwait(false);
            }
            ct.ThrowIfCancellationRequested();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            interrupted = true;
        }
        finally
        {
            running.Cancel();
            foreach (var task in tasks)
            {
                try { await task.ConfigureAwait(false); }
                catch (OperationCanceledException) { }
                catch (Exception e) { failure ??= e; } // restore first, then report it
            }
        }

        // Restore whatever happened above, with its own bounds (rollout timeout), even after Ctrl-C.
        var restored = await chaos.RestoreAsync(CancellationToken.None).ConfigureAwait(false);
        if (failure is not null) throw new InvalidOperationException("the cluster side failed (changed limits were restored first): " + failure.Message, failure);
        return new ClusterRunSummary
        {
            ServerVersion = version,
            Chaos = chaos.Counts,
            LimitsRestored = restored,
            RestoreFailures = context.Restore.Entries.Count(e => e.RestoredAt is null),
            LifecycleEvents = watcher.LifecycleEvents,
            Samples = sampler.Samples,
            WatchRelists = watcher.Relists,
            Interrupted = interrupted,
        };
    }
}
