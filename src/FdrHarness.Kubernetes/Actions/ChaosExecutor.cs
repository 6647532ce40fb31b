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
/// Carries out the plan's cluster actions (the chaos kinds whose <see cref="ChaosKind.Side"/> is the cluster) at their
/// instants (offsets from the run's start, on the clock), one lane per kind, each in time order: a limit change waits
/// for its rollout, which may take minutes; the kills do not wait for it. Within a lane one action at a time, so the
/// blast radius of a kill is judged on what the previous kill left. The other kinds are audited as not applied.
/// </summary>
public sealed class ChaosExecutor(RunPlan plan, ChaosContext context)
{
    // One line per cluster chaos kind, its action in its own file (PodKiller.cs, LimitEnforcer.cs): adding one is its
    // file and its line here (and in ChaosPlanner's table for the dry run).
    internal static readonly IReadOnlyDictionary<Type, Func<ChaosExecutor, ChaosFiring, CancellationToken, Task>> Actions =
        new Dictionary<Type, Func<ChaosExecutor, ChaosFiring, CancellationToken, Task>>
        {
            [typeof(PodKill)] = (x, firing, ct) => x.KillAsync(firing, (PodKill)firing.Spec, ct),
            [typeof(LimitChange)] = (x, firing, ct) => x.ChangeLimitsAsync(firing, (LimitChange)firing.Spec, ct),
        };

    private readonly Scenario _scenario = plan.Scenario;
    private readonly PodKiller _killer = new(context);
    private readonly LimitEnforcer _limits = new(context);
    private int _killed, _skipped, _changes, _failed, _notApplied;

    public ChaosExecutor(Scenario scenario, ChaosContext context) : this(RunPlan.Create(scenario), context) { }

    public ChaosCounts Counts => new()
    {
        PodsKilled = _killed, KillsSkipped = _skipped, LimitChanges = _changes, ActionsFailed = _failed, NotApplied = _notApplied,
    };

    private static bool OnTheCluster(ChaosFiring firing) => ChaosKind.For(firing.Spec).Side == LiveSide.Cluster;

    /// <summary>The cluster actions of a plan in the order they happen.</summary>
    public static IReadOnlyList<ChaosFiring> Timeline(RunPlan plan) => [.. plan.ChaosFirings.Where(OnTheCluster)];

    /// <summary>Runs every action at start + its offset; returns when all are done or <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(DateTimeOffset start, CancellationToken ct)
    {
        foreach (var firing in plan.ChaosFirings.Where(f => !OnTheCluster(f) && f.Edge != ChaosEdge.End))
        {
            _notApplied++;
            context.Audit.Write("skipped", TargetResolver.KindOf(firing.Spec), firing.Name, null, [], ChaosPlanner.NotClusterAction);
        }
        var timeline = Timeline(plan);
        var lanes = Actions.Keys.ToDictionary(kind => kind, kind => LaneAsync(timeline.Where(f => f.Spec.GetType() == kind), start, ct));
        Kills = lanes[typeof(PodKill)];
        await Task.WhenAll(lanes.Values).ConfigureAwait(false);
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

    internal Task RunOneAsync(ChaosFiring firing, CancellationToken ct) => Actions[firing.Spec.GetType()](this, firing, ct);

    private async Task KillAsync(ChaosFiring firing, PodKill kill, CancellationToken ct)
    {
        var outcome = await _killer.KillAsync(kill, TargetResolver.Pods(kill.Selector, _scenario), firing.Name, firing.Occurrence, ct).ConfigureAwait(false);
        Interlocked.Add(ref _killed, outcome.Killed.Count);
        Interlocked.Add(ref _skipped, outcome.Skipped.Count);
        if (outcome.Failure is not null) Interlocked.Increment(ref _failed);
    }

    private async Task ChangeLimitsAsync(ChaosFiring firing, LimitChange change, CancellationToken ct)
    {
        if (await _limits.ApplyAsync(change, TargetResolver.Deployment(change, _scenario), firing.Name, ct).ConfigureAwait(false)) Interlocked.Increment(ref _changes);
        else Interlocked.Increment(ref _failed);
    }

    /// <summary>One action outside a plan's timeline (tests, and actions the caller times itself).</summary>
    internal Task RunOneAsync(ChaosAction action, int occurrence, CancellationToken ct) =>
        RunOneAsync(new ChaosFiring(TimeSpan.Zero, -1, action.Name ?? DefaultNames.KindOf(action), action, occurrence, ChaosEdge.Instant, 0), ct);

    /// <summary>Puts every changed limit back (see <see cref="ChaosRestore"/>).</summary>
    public Task<int> RestoreAsync(CancellationToken ct) => _limits.RestoreAllAsync(ct);
}
