using FdrHarness.Core.Planning;
using FdrHarness.Core.Scenarios;
using FdrHarness.Core.Scenarios.Model;
using FdrHarness.Kubernetes.Planning;
using FdrHarness.Kubernetes.Targeting;

namespace FdrHarness.Kubernetes.Actions;

/// <summary>Counts of what the chaos did in a run.</summary>
public sealed record ChaosCounts
{
    public int PodsKilled { get; init; }
    public int KillsSkipped { get; init; }
    public int LimitChanges { get; init; }
    public int ActionsFailed { get; init; }
    public int NotApplied { get; init; }
}

/// <summary>
/// Carries out the plan's cluster actions at their instants (offsets from the run's start, on the clock) in two
/// lanes, each in time order: pod kills, and limit changes. A limit change waits for its rollout, which may take
/// minutes; the kills do not wait for it. Within a lane one action at a time, so the blast radius of a kill is judged
/// on what the previous kill left. RSE outages and link degradation are audited as not applied.
/// </summary>
public sealed class ChaosExecutor(RunPlan plan, ChaosContext context)
{
    private readonly Scenario _scenario = plan.Scenario;
    private readonly PodKiller _killer = new(context);
    private readonly LimitEnforcer _limits = new(context);
    private int _killed, _skipped, _changes, _failed, _notApplied;

    public ChaosExecutor(Scenario scenario, ChaosContext context) : this(RunPlan.Create(scenario), context) { }

    public ChaosCounts Counts => new()
    {
        PodsKilled = _killed, KillsSkipped = _skipped, LimitChanges = _changes, ActionsFailed = _failed, NotApplied = _notApplied,
    };

    /// <summary>The cluster actions of a plan in the order they happen.</summary>
    public static IReadOnlyList<ChaosFiring> Timeline(RunPlan plan) => [.. plan.ChaosFirings.Where(f => f.Spec is PodKill or LimitChange)];

    /// <summary>Runs every action at start + its offset; returns when all are done or <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(DateTimeOffset start, CancellationToken ct)
    {
        foreach (var firing in plan.ChaosFirings.Where(f => f.Spec is RseOutage or LinkDegradation && f.Edge != ChaosEdge.End))
        {
            _notApplied++;
            context.Audit.Write("skipped", TargetResolver.KindOf(firing.Spec), firing.Name, null, [], ChaosPlanner.NotClusterAction);
        }
        var timeline = Timeline(plan);
        Kills = LaneAsync(timeline.Where(t => t.Spec is PodKill), start, ct);
        await Task.WhenAll(Kills, LaneAsync(timeline.Where(t => t.Spec is LimitChange), start, ct)).ConfigureAwait(false);
    }

    /// <summary>The pod-kill lane: complete once every kill of the plan is carried out (or the lane was cancelled).</summary>
    public Task Kills { get; private set; } = Task.CompletedTask;

    private async Task LaneAsync(IEnumerable<ChaosFiring> lane, DateTimeOffset start, CancellationToken ct)
    {
        foreach (var firing in lane)
        {
            var wait = start + firing.At - context.Clock.GetUtcNow();
            if (wait > TimeSpan.Zero) await Task.Delay(wait, context.Clock, ct).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            await RunOneAsync(firing, ct).ConfigureAwait(false);
        }
    }

    internal async Task RunOneAsync(ChaosFiring firing, CancellationToken ct)
    {
        switch (firing.Spec)
        {
            case PodKill kill:
                var outcome = await _killer.KillAsync(kill, TargetResolver.Pods(kill.Selector, _scenario), firing.Name, firing.Occurrence, ct).ConfigureAwait(false);
                Interlocked.Add(ref _killed, outcome.Killed.Count);
                Interlocked.Add(ref _skipped, outcome.Skipped.Count);
                if (outcome.Failure is not null) Interlocked.Increment(ref _failed);
                break;
            case LimitChange change:
                if (await _limits.ApplyAsync(change, TargetResolver.Deployment(change, _scenario), firing.Name, ct).ConfigureAwait(false)) Interlocked.Increment(ref _changes);
                else Interlocked.Increment(ref _failed);
                break;
        }
    }

    /// <summary>One action outside a plan's timeline (tests, and actions the caller times itself).</summary>
    internal Task RunOneAsync(ChaosAction action, int occurrence, CancellationToken ct) =>
        RunOneAsync(new ChaosFiring(TimeSpan.Zero, -1, action.Name ?? DefaultNames.KindOf(action), action, occurrence, ChaosEdge.Instant, 0), ct);

    /// <summary>Puts every changed limit back (see <see cref="ChaosRestore"/>).</summary>
    public Task<int> RestoreAsync(CancellationToken ct) => _limits.RestoreAllAsync(ct);
}
